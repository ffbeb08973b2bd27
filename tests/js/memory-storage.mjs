// The outbox's storage interface (static/js/outbox-store.js) kept in memory, for the unit tests.
// Values are copied on the way in and out, as IndexedDB's structured clone does: a test that changes
// an entry after put() must not change what is stored.
export function memoryStorage() {
  const stores = { entries: new Map(), meta: new Map() };
  const copy = (value) => (value === undefined ? undefined : structuredClone(value));
  return {
    stores,
    async get(store, key) { return copy(stores[store].get(key)); },
    async getAll(store) { return [...stores[store].values()].map(copy); },
    async put(store, value, key) { stores[store].set(key === undefined ? value.id : key, copy(value)); },
    async delete(store, key) { stores[store].delete(key); },
  };
}
