/* What the server says about this page (the #app-config block: who is logged in, where to enrol,
   the CSRF token) and the small DOM helpers the outbox modules share. */
const configNode = document.getElementById('app-config');

export const config = configNode ? JSON.parse(configNode.textContent) : null;

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
