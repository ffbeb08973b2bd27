// Loads the classic outbox store (static/js/outbox-store.js) the way a page or the service worker
// does, by running it against a `self`, and returns what it assigns there (OutboxStore). The fake
// `self` has no indexedDB, so no browser outbox is created.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const source = readFileSync(new URL('../../static/js/outbox-store.js', import.meta.url), 'utf8');

export function loadStore() {
  const self = {};
  // In this realm (not a new vm context), so that arrays and objects compare with deepStrictEqual.
  vm.runInThisContext(`(function (self) {\n${source}\n})`, { filename: 'outbox-store.js' })(self);
  return self.OutboxStore;
}
