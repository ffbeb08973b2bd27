/* Shared by the modules: the store, the page's #app-config, DOM helpers. The store, outbox-store.js,
   is a classic script (the service worker importScripts it) that base.html runs before the modules,
   deferred in document order, so self.Outbox is there early, as the browser tests expect. */
const configNode = document.getElementById('app-config');

export const config = configNode ? JSON.parse(configNode.textContent) : null;
export const Outbox = self.Outbox;
/* Whether this page keeps actions on the phone: a page from our server, with IndexedDB. */
export const available = Boolean(config && Outbox && self.indexedDB);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/* A time as the phone's clock shows it, in the page's language. */
export function time(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
}

/* A kept copy, or the offline page: not the server's word on who is logged in now. */
export function isOfflineCopy() {
  const root = document.documentElement;
  return root.hasAttribute('data-offline-copy') || root.hasAttribute('data-offline-page');
}

/* Put a note at the top of the page's main part. */
export function prepend(note) {
  const main = document.getElementById('main');
  return main.insertBefore(note, main.firstChild);
}
