/* Sending: one drain at a time on this page, again by itself when an entry is due (no background
   sync on iOS; no `online` event when only the server was down). */
import { Outbox } from './page.js';
import { ensureDevice } from './phone.js';

let draining = null;
let again = false;
let retryTimer = null;
const afterEach = [];

/* Call listener (which may return a promise) after each drain, e.g. to redraw the badge. */
export function afterDrain(listener) {
  afterEach.push(listener);
}

/* Send what is due (everything waiting when forced); resolves with the store's drain result. */
export function drain(force) {
  if (draining) {
    again = true;  // something was recorded meanwhile: one more round once this one ends
    return draining;
  }
  clearTimeout(retryTimer);
  draining = drainOnce(force);
  return draining;
}

async function drainOnce(force) {
  let result;
  try {
    await ensureDevice();
    result = await Outbox.drain(force);
  } catch (error) {
    result = { sent: 0 };
  }
  draining = null;
  if (again) {
    again = false;
    return drain(true);
  }
  if (result.waiting && result.nextTry) {
    retryTimer = setTimeout(() => drain(false), Math.max(1000, result.nextTry - Date.now()));
  }
  await Promise.all(afterEach.map((listener) => listener()));
  return result;
}

/* Ask the service worker to drain in the background too (where the browser has background sync). */
export async function requestBackgroundSync() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register('outbox');
  } catch (error) {
    // No background sync: the pages drain by themselves.
  }
}

/* Try an action that needed a person again. A conflict applied nothing, so it goes as a new action
   (a new idempotency key); the others keep theirs. */
export async function retry(entry) {
  const old = entry.id;
  if (entry.status === 'conflict') entry.id = crypto.randomUUID();
  entry.status = 'waiting';
  entry.nextTry = 0;
  entry.attempts = 0;
  entry.message = '';
  entry.errors = null;
  await Outbox.put(entry);
  if (old !== entry.id) await Outbox.remove(old);
  drain(true);
}
