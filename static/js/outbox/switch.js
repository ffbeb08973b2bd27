/* The worker switch without signal (the switch page only): an online switch with a PIN leaves a
   PBKDF2 verifier on the phone (kept by phone.js on the next page), so that the same person can switch
   in later without signal. */
import { fill, texts } from '../i18n.js';
import { showActor } from './phone.js';
import { Outbox, available, el, isOfflineCopy } from './page.js';

const PIN_ROUNDS = 100000;
const MAX_WRONG = 5;
const LOCKED_MS = 15 * 60 * 1000;

async function digest(pin, salt) {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(salt),
                                                iterations: PIN_ROUNDS }, key, 256);
  return Array.from(new Uint8Array(bits), (b) => ('0' + b.toString(16)).slice(-2)).join('');
}

/* Before an online switch is posted: the verifier waits in sessionStorage for the server's answer. */
async function capturePin(form) {
  const number = form.querySelector('[name="employee_no"]');
  const pin = form.querySelector('[name="pin"]');
  if (!number || !pin || !number.value || !pin.value || !crypto.subtle) return;
  const salt = crypto.randomUUID();
  const employee = number.value.trim().toLowerCase();
  const hash = await digest(pin.value, salt);
  sessionStorage.setItem('outbox-pin', JSON.stringify({ employee: employee, salt: salt, hash: hash }));
}

/* The switch form's submit: online the server decides; without signal the kept verifier does. */
async function offlineSwitch(event) {
  const form = event.target;
  event.preventDefault();
  if (navigator.onLine && !isOfflineCopy()) {
    // Online the server checks the PIN; keep a verifier first (the page is left on submit).
    const capture = form.hasAttribute('data-pin-capture') ? capturePin(form) : Promise.resolve();
    await capture.catch(() => {});  // without a verifier only the offline switch is lost
    form.submit();
    return;
  }
  const t = texts('outbox');
  const number = form.querySelector('[name="employee_no"]').value.trim().toLowerCase();
  const pin = form.querySelector('[name="pin"]').value;
  const message = document.getElementById('switch-offline-message') || form.appendChild(el('p', 'error'));
  message.id = 'switch-offline-message';
  message.setAttribute('role', 'alert');
  const say = (className, text) => { message.className = className; message.textContent = text; };
  const [pins, failed] = await Promise.all([Outbox.getMeta('pins'), Outbox.getMeta('pinFailures')]);
  const known = (pins || {})[number];
  const failures = failed || { count: 0, at: 0 };
  if (failures.count >= MAX_WRONG && Date.now() - failures.at < LOCKED_MS) return say('error', t.switchLocked);
  if (!known) return say('error', t.switchUnknown);
  if ((await digest(pin, known.salt)) !== known.hash) {
    say('error', t.switchWrong);
    return Outbox.setMeta('pinFailures', { count: failures.count + 1, at: Date.now() });
  }
  Outbox.setMeta('pinFailures', { count: 0, at: 0 });
  await Outbox.setMeta('actor', { id: known.id, name: known.name, offline: true });
  say('flash', fill(t.switchDone, { name: known.name }));
  showActor(known);
  form.reset();
  return undefined;
}

// In the capture phase, like outbox/forms.js (which leaves this form alone).
document.addEventListener('submit', (event) => {
  if (event.target.hasAttribute('data-offline-switch') && available) offlineSwitch(event);
}, true);
