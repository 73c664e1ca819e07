/**
 * One tab per profile (issue 12): two tabs advancing the same ratchets would
 * reuse message keys and corrupt the sessions. The SDK's own Lock
 * (sdk/src/lock.ts) orders operations inside one page only; across tabs the
 * Web Locks API does it: the lock is held for the life of the page, and a
 * second tab of the same browser profile does not open the vault at all.
 */
export const PROFILE_LOCK = 'pulse-profile';

/**
 * True when this page now holds the profile. Fails closed: a browser without
 * Web Locks (or a page outside a secure context, where it is hidden) cannot
 * promise one writer, so the profile is not opened there.
 */
export function holdProfileLock(): Promise<boolean> {
  if (!('locks' in navigator) || navigator.locks === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    void navigator.locks.request(PROFILE_LOCK, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Never settles while the page lives: the browser releases the lock when the page goes.
      return lock === null ? undefined : new Promise<never>(() => {});
    });
  });
}
