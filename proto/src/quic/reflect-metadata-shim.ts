/**
 * @peculiar/x509 loads tsyringe, which refuses to start without the
 * `reflect-metadata` polyfill (not installed in this workspace). This is the
 * small part of that API tsyringe and TypeScript's decorator helpers use,
 * installed only when missing. Import it before loading @peculiar/x509.
 */
type MetadataStore = Map<unknown, unknown>;

interface ReflectWithMetadata {
  getMetadata?: unknown;
}

const stores = new WeakMap<object, Map<PropertyKey | undefined, MetadataStore>>();

function storeFor(target: object, property: PropertyKey | undefined, create: boolean): MetadataStore | undefined {
  let byProperty = stores.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    stores.set(target, byProperty);
  }
  let store = byProperty.get(property);
  if (store === undefined && create) {
    store = new Map();
    byProperty.set(property, store);
  }
  return store;
}

function getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  return storeFor(target, property, false)?.get(key);
}

function getMetadata(key: unknown, target: object, property?: PropertyKey): unknown {
  for (let current: object | null = target; current !== null; current = Object.getPrototypeOf(current)) {
    const store = storeFor(current, property, false);
    if (store?.has(key)) return store.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void {
  storeFor(target, property, true)?.set(key, value);
}

if (typeof (Reflect as ReflectWithMetadata).getMetadata !== 'function') {
  Object.assign(Reflect, {
    getMetadata,
    getOwnMetadata,
    defineMetadata,
    hasMetadata: (key: unknown, target: object, property?: PropertyKey) =>
      getMetadata(key, target, property) !== undefined,
    metadata: (key: unknown, value: unknown) => (target: object, property?: PropertyKey) =>
      defineMetadata(key, value, target, property),
  });
}

export {};
