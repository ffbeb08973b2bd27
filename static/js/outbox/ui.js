/* What the page shows of the outbox: the badge, this page's waiting actions and the outbox page
   (drawn by list.js), the offline-copy banner, a sent action's note, a one-time form's "done" view. */
import { fill, texts } from '../i18n.js';
import { Outbox, config, el, prepend, time } from './page.js';

const t = texts('outbox');
// A one-time form's "done" view (the receipt); kept here, since showing it replaces the page's main.
const doneTemplate = document.getElementById('offline-done');
let reloadTimer = null;

function showBadge(counts) {
  const badge = document.getElementById('outbox-badge');
  if (!badge) return;
  badge.hidden = counts.total === 0;
  badge.classList.toggle('bad', counts.conflict + counts.attention > 0);
  badge.querySelector('.count').textContent = String(counts.total);
  badge.setAttribute('aria-label', fill(t.badge, { n: counts.total }));
  badge.setAttribute('data-waiting', counts.waiting);
  badge.setAttribute('data-stuck', counts.conflict + counts.attention);
}

/* Redraw everything the outbox shows on this page from what the phone holds now. */
export async function refresh() {
  const [list, revoked] = await Promise.all([Outbox.entries(), Outbox.getMeta('revoked')]);
  showBadge(Outbox.counts(list));
  // The list (list.js) is loaded only where there is one to draw, or one shown to take away.
  const here = document.getElementById('outbox-here');
  if (document.getElementById('outbox-list') || (here && !here.hidden) ||
      list.some((e) => e.page === location.pathname)) {
    (await import('./list.js')).showList(list, revoked);
  }
}

/* On a one-time form's page: replace the page by its "done" view with this message. */
export function showDone(message) {
  if (!doneTemplate) return null;
  const main = document.getElementById('main');
  main.replaceChildren(doneTemplate.content.cloneNode(true));
  main.querySelector('[data-done-message]').textContent = message;
  return main;
}

/* What a sent action leaves: the server's message after the page reloads. */
export function showFlash() {
  const message = sessionStorage.getItem('outbox-flash');
  if (!message) return;
  sessionStorage.removeItem('outbox-flash');
  const note = el('p', 'flash', message);
  note.setAttribute('role', 'status');
  prepend(note);
}

export function showOfflineCopy() {
  const banner = document.getElementById('offline-copy');
  if (banner && document.documentElement.hasAttribute('data-offline-copy')) {
    banner.textContent = fill(t.offlineCopy, { time: time(config.renderedAt) });
    banner.hidden = false;
  }
}

/* Once this page's actions are sent (here, on another page or by the worker), show the server's
   fresh page, or on a one-time page its answer. */
export function followSentActions() {
  Outbox.onChange((message) => {
    const detail = message && message.detail;
    refresh();
    if (!detail || !detail.sent || detail.page !== location.pathname) return;
    const main = showDone(detail.message);
    if (main) {
      // A one-time page (a signed receipt's link is used up): the answer instead of a reload.
      if (detail.download && /^\/[^\/]/.test(detail.download)) {
        // The answer names the signed copy to download (a customer's receipt): offer it here.
        const link = el('a', 'button', texts('receipt').download || detail.download);
        link.href = detail.download;
        link.setAttribute('download', '');
        main.appendChild(el('p', 'actions')).appendChild(link);
      }
      return;
    }
    if (detail.message) sessionStorage.setItem('outbox-flash', detail.message);
    // Reload once the queue for this page is sent (unless someone is typing).
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      const active = document.activeElement;
      if (!active || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) location.reload();
    }, 400);
  });
}
