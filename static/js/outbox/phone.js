/* Who acts on this phone (the page's user online, or who switched in without signal), and the
   phone's device credential, so that actions replay without a session cookie. */
import { fill, texts } from '../i18n.js';
import { Outbox, config, el, isOfflineCopy, prepend } from './page.js';

/* The person acting now: {id, name}. */
export async function currentActor() {
  let actor = await Outbox.getMeta('actor');
  if (config.user && !isOfflineCopy() && (!actor || actor.id !== config.user.id)) {
    // A page from the server says who is logged in: that is the truth while online.
    if (actor && actor.offline) showSwitchedBack(actor);
    actor = { id: config.user.id, name: config.user.name };
    await Outbox.setMeta('actor', actor);
    return actor;
  }
  return actor || config.user;
}

/* Someone switched in without signal; the server's session still has the person before them. */
function showSwitchedBack(offlineActor) {
  const t = texts('outbox');
  const note = el('p', 'offline-copy');
  note.setAttribute('role', 'alert');
  note.append(fill(t.switchedBack, { offline: offlineActor.name, name: config.user.name }) + ' ');
  const link = el('a', '', t.switchAgain);
  link.href = config.switchUrl;
  note.append(link);
  prepend(note);
}

/* The name at the top of the page follows the person acting. */
export function showActor(actor) {
  const who = document.querySelector('.top .who');
  if (who && actor && who.textContent !== actor.name) who.textContent = actor.name;
}

/* Enrol this phone, or the logged-in person on it, when the server does not know them yet. */
export async function ensureDevice() {
  if (!config.user || isOfflineCopy() || !navigator.onLine) return undefined;
  const [device, members] = await Promise.all([Outbox.getMeta('device'), Outbox.getMeta('members')]);
  if (device && (members || []).some((m) => m.id === config.user.id)) return false;
  const headers = { 'X-CSRFToken': config.csrf, 'Accept': 'application/json' };
  if (device) headers.Authorization = 'Device ' + device.id + '.' + device.secret;
  try {
    const response = await fetch(config.enrolUrl, { method: 'POST', headers: headers, credentials: 'same-origin' });
    if (response.status === 403) {
      await Outbox.setMeta('revoked', true);
      return false;
    }
    if (!response.ok) return false;
    const data = await response.json();
    const saving = [Outbox.setMeta('members', data.members)];
    if (data.secret) saving.push(Outbox.setMeta('device', { id: data.device, secret: data.secret }));
    await Promise.all(saving);
    return true;
  } catch (error) {
    return false;  // no signal or no answer: the next page tries again
  }
}

/* On the page after the switch: keep the verifier if the server let that person in. */
export async function keepPinVerifier() {
  const pending = sessionStorage.getItem('outbox-pin');
  if (!pending || !config.user || isOfflineCopy()) return;
  sessionStorage.removeItem('outbox-pin');
  if (!config.justSwitched) return;  // the server refused that PIN: keep nothing
  const verifier = JSON.parse(pending);
  if (verifier.employee !== (config.user.employeeNo || '').toLowerCase()) return;
  const pins = (await Outbox.getMeta('pins')) || {};
  pins[verifier.employee] = { id: config.user.id, name: config.user.name, salt: verifier.salt, hash: verifier.hash };
  await Outbox.setMeta('pins', pins);
}
