/**
 * Secrets never reach logs: objects holding key material render as a redacted
 * placeholder in JSON.stringify and in Node's util.inspect / console.log.
 * Symbol.for avoids importing node:util, so this file stays browser-safe.
 */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** Installs redacting toJSON and inspect hooks on a class prototype. */
export function redactSecrets(ctor: { prototype: object; name: string }, describe?: (self: never) => string): void {
  const render = function (this: object): string {
    const extra = describe ? ` ${describe(this as never)}` : '';
    return `${ctor.name} {${extra} [secret material redacted] }`;
  };
  Object.defineProperty(ctor.prototype, 'toJSON', {
    value(this: object) {
      return render.call(this);
    },
    enumerable: false,
  });
  Object.defineProperty(ctor.prototype, inspectSymbol, {
    value(this: object) {
      return render.call(this);
    },
    enumerable: false,
  });
}
