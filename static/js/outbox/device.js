/* The phone's device credential: enrolled once per phone, and each person who acts on it enrolled as
   a member, so that actions replay without a session cookie. */
import { Outbox } from './store.js';
import { config, isOfflineCopy } from './page.js';

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
