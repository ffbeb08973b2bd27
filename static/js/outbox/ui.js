/* What the page shows of the outbox: the badge, this page's waiting actions, the outbox page, the
   offline-copy banner, a sent action's note, a one-time form's "done" view. */
import { fill, texts } from '../i18n.js';
import { Outbox, config, el, prepend, time } from './page.js';
import { drain, retry } from './replay.js';

const t = texts('outbox');
// A one-time form's "done" view (the receipt); kept here, since showing it replaces the page's main.
const doneTemplate = document.getElementById('offline-done');
let reloadTimer = null;

function statusText(entry) {
  if (entry.status === 'waiting') return entry.attempts ? t.retrying : t.waiting;
  if (entry.status === 'conflict') return t.conflict;
  if (entry.status === 'refused') return t.refused;
  return t.attention;
}

function entryNode(entry, withActions) {
  const item = el('li', 'outbox-entry s-' + entry.status);
  const head = el('div', 'item');
  const photos = entry.files && entry.files.length ? ' · ' + fill(t.photos, { n: entry.files.length }) : '';
  head.append(el('span', 'title', entry.summary || entry.url),
              el('span', 'sub', statusText(entry) + ' · ' + entry.actor.name + ' · ' + time(entry.recordedAt) + photos));
  const stuck = entry.status !== 'waiting';
  if (entry.message && stuck) head.append(el('span', 'error', entry.message));
  if (entry.errors && stuck) {
    for (const name of Object.keys(entry.errors)) {
      const value = (entry.fields || []).filter((pair) => pair[0] === name).map((pair) => pair[1]);
      head.append(el('span', 'error', (value.length ? '“' + value.join(', ') + '”: ' : '') + entry.errors[name].join(' ')));
    }
  }
  if (withActions && stuck) head.append(el('span', 'help', t['help_' + entry.status] || t.help_attention));
  item.append(head);
  if (withActions && stuck) {
    const again = el('button', 'secondary', t.retry);
    again.type = 'button';
    again.addEventListener('click', () => retry(entry));
    const discard = el('button', 'danger', t.discard);
    discard.type = 'button';
    discard.addEventListener('click', async () => {
      if (!window.confirm(t.discardConfirm)) return;
      await Outbox.remove(entry.id);
      refresh();
    });
    const actions = el('div', 'actions');
    actions.append(again, discard);
    item.append(actions);
  }
  return item;
}

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

function showHere(list) {
  const here = document.getElementById('outbox-here');
  if (!here) return;
  const mine = list.filter((e) => e.page === location.pathname);
  here.replaceChildren();
  here.hidden = mine.length === 0;
  if (!mine.length) return;
  const ul = el('ul', 'list');
  mine.forEach((e) => ul.append(entryNode(e, false)));
  const send = el('button', 'secondary', t.sendNow);
  send.type = 'button';
  send.addEventListener('click', () => drain(true));
  here.append(el('h2', '', t.here), ul, send);
}

function showOutboxPage(list, revoked) {
  const page = document.getElementById('outbox-list');
  if (!page) return;
  page.replaceChildren();
  list.forEach((e) => page.append(entryNode(e, true)));
  document.getElementById('outbox-empty').hidden = list.length > 0;
  const revokedNote = document.getElementById('outbox-revoked');
  if (revokedNote) revokedNote.hidden = !revoked;
}

/* Redraw everything the outbox shows on this page from what the phone holds now. */
export async function refresh() {
  const [list, revoked] = await Promise.all([Outbox.entries(), Outbox.getMeta('revoked')]);
  showBadge(Outbox.counts(list));
  showHere(list);
  showOutboxPage(list, revoked);
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
