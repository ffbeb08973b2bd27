/* The outbox's entries as a list: this page's waiting actions (#outbox-here) and the outbox page with
   its retry and discard buttons. Loaded by ui.js only when there is a list to show, so that a page
   with nothing waiting does not carry it (the JavaScript budget, DESIGN.md §6). */
import { fill, texts } from '../i18n.js';
import { Outbox, el, time } from './page.js';
import { drain, retry } from './replay.js';
import { refresh } from './ui.js';

const t = texts('outbox');

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

/* Draw this page's waiting actions and, on the outbox page, every entry. */
export function showList(list, revoked) {
  showHere(list);
  showOutboxPage(list, revoked);
}
