/* Recording an action before any network attempt: a data-offline form, or an island's post (the
   packing scanner). Keep the entry's fields as they are: entries recorded before an upgrade replay. */
import { Outbox } from './page.js';
import { currentActor, ensureDevice } from './phone.js';
import { downscale } from './photos.js';
import { requestBackgroundSync } from './replay.js';
import { refresh } from './ui.js';

/* One line for the outbox list: the form's name for the action, then what was typed. */
function summarise(form, submitter) {
  const parts = [form.getAttribute('data-offline') || ''];
  for (const input of form.elements) {
    if (!input.name || input.type === 'hidden' || input.type === 'file' || input.type === 'submit' || !input.value) continue;
    if (input.tagName === 'SELECT') parts.push(input.options[input.selectedIndex].text);
    else parts.push(input.value.slice(0, 40));
  }
  if (submitter && submitter.name && submitter.value && parts.length === 1) parts.push(submitter.value);
  return parts.filter(Boolean).join(' · ').slice(0, 160);
}

/* Put what the form would post into the outbox (its photos made small); resolves with the entry. */
export async function recordForm(form, submitter) {
  const fields = [];
  const photos = [];
  const data = new FormData(form);
  if (submitter && submitter.name) data.append(submitter.name, submitter.value);
  data.forEach((value, name) => {
    if (name === 'csrf_token') return;
    if (!(value instanceof File)) fields.push([name, value]);
    else if (value.size) photos.push(downscale(value).then((small) => [name, small.blob, small.name]));
  });
  const byLink = form.getAttribute('data-offline-auth') === 'link';
  const [actor, files] = await Promise.all([byLink ? null : currentActor(), Promise.all(photos)]);
  const who = actor || { id: null, name: form.getAttribute('data-offline-who') || '' };
  return Outbox.add({
    auth: byLink ? 'link' : 'device',
    url: form.action, fields: fields, files: files, actor: { id: who.id, name: who.name },
    recordedAt: new Date().toISOString(), page: location.pathname,
    object: form.getAttribute('data-offline-object') || location.pathname,
    summary: summarise(form, submitter)
  });
}

/* Put one action of an island into the outbox; quiet: its page shows the answer itself. */
export async function recordAction(url, fields, summary, object, quiet) {
  const actor = await currentActor();
  const entry = await Outbox.add({
    quiet: !!quiet,
    auth: 'device', url: new URL(url, location.href).href, fields: fields, files: [],
    actor: { id: actor.id, name: actor.name }, recordedAt: new Date().toISOString(),
    page: location.pathname, object: object || location.pathname, summary: summary
  });
  requestBackgroundSync();
  refresh();
  return entry;
}

/* Record first, then send at once and resolve with the server's answer ({outcome, status, body}); an
   answer the person sees right away is not kept as "needs attention". */
export async function recordAndSend(url, fields, summary, object) {
  const entry = await recordAction(url, fields, summary, object, true);
  await ensureDevice();
  const answer = await Outbox.sendOne(entry.id);
  if (answer.outcome === 'stuck') await Outbox.remove(entry.id);
  refresh();
  return answer;
}
