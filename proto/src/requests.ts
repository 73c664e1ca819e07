import type { FrameOf } from './frames.ts';

/**
 * Each request a client sends with an `id`, and the frame type of its successful
 * answer (PROTOCOL.md "Frames", the "answer" column). Any request may instead be
 * answered by an `error` frame carrying the same `id`.
 */
export interface AnswerOf {
  register: 'auth_ok';
  auth: 'auth_ok';
  auth_token: 'auth_ok';
  device_list: 'devices';
  device_list_update: 'ok';
  link_request: 'link_pending';
  link_list: 'links';
  prekeys_upload: 'ok';
  bundle_fetch: 'bundles';
  send: 'sent';
  sender_certificate: 'certificate';
  set_delivery_token: 'ok';
  sealed_send: 'sent';
  sync: 'sync_done';
  subscribe: 'subscribed';
  unsubscribe: 'ok';
  publish: 'published';
}
export type RequestType = keyof AnswerOf;
/** A request as a caller writes it, before a request id is assigned. */
export type RequestFrame<T extends RequestType> = Omit<FrameOf<T>, 'id'> & { type: T };
/** The successful answer to a request of type `T`. */
export type Answer<T extends RequestType> = FrameOf<AnswerOf[T]>;

/** The same table as a value, for code that matches answers at run time. */
export const REQUEST_ANSWERS: { readonly [T in RequestType]: AnswerOf[T] } = Object.freeze({
  register: 'auth_ok',
  auth: 'auth_ok',
  auth_token: 'auth_ok',
  device_list: 'devices',
  device_list_update: 'ok',
  link_request: 'link_pending',
  link_list: 'links',
  prekeys_upload: 'ok',
  bundle_fetch: 'bundles',
  send: 'sent',
  sender_certificate: 'certificate',
  set_delivery_token: 'ok',
  sealed_send: 'sent',
  sync: 'sync_done',
  subscribe: 'subscribed',
  unsubscribe: 'ok',
  publish: 'published',
});
