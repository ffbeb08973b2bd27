/* Form submits: a data-offline form goes to the outbox, another post without signal is stopped with
   a note (not the browser's error page); the switch form is switch.js's. */
import { texts } from '../i18n.js';
import { el, isOfflineCopy, prepend } from './page.js';
import { forgetPages } from './pages.js';
import { drain, requestBackgroundSync } from './replay.js';
import { refresh, showDone } from './ui.js';

/* The recorder (record.js and its photo downscaling) is loaded only by a page that keeps a form: at
   once where the page has one, else on the first such submit (a form an htmx swap brought in). */
const recorder = () => import('./record.js');

function needsSignal(form) {
  return !form.hasAttribute('data-offline') && (form.getAttribute('method') || '').toLowerCase() === 'post' &&
    !navigator.onLine;
}

function onSubmit(event) {
  const form = event.target;
  if (form.hasAttribute('data-offline-switch')) return;  // the switch page's own switch.js
  if (needsSignal(form)) {
    event.preventDefault();
    const note = document.getElementById('needs-signal') || prepend(el('p', 'flash error'));
    note.id = 'needs-signal';
    note.setAttribute('role', 'alert');
    note.textContent = texts('outbox').needsSignal;
    note.scrollIntoView({ block: 'nearest' });
    return;
  }
  if (form.matches('form[action$="/logout"], form[action$="/logout-everywhere"]')) forgetPages();
  if (!form.hasAttribute('data-offline')) return;
  event.preventDefault();
  keep(form, event.submitter);
}

/* Record the form, clear it, and send what is waiting. */
async function keep(form, button) {
  if (button) button.disabled = true;
  try {
    const { recordForm } = await recorder();
    await recordForm(form, button);
  } catch (error) {
    if (button) button.disabled = false;
    if (navigator.onLine && !isOfflineCopy()) {
      // The outbox cannot be written (storage blocked): a plain post still works with signal.
      form.removeAttribute('data-offline');
      form.submit();
      return undefined;
    }
    // Without signal a plain post would end in the browser's error page and lose what was typed.
    const note = form.querySelector('.outbox-error') || form.appendChild(el('p', 'error outbox-error'));
    note.setAttribute('role', 'alert');
    note.textContent = texts('outbox').storageFailed;
    return undefined;
  }
  form.reset();
  // A one-time form (the receipt): say it is kept, instead of showing it empty again.
  showDone(texts('outbox').keptOnPhone);
  const details = form.closest('details');
  if (details) details.open = false;
  if (button) button.disabled = false;
  requestBackgroundSync();
  await refresh();
  return drain(false);
}

/* In the capture phase, before the page's own handlers (precheck.js listens on window, so first). */
export function interceptForms() {
  document.addEventListener('submit', onSubmit, true);
  if (document.querySelector('form[data-offline]')) recorder().catch(() => {});  // tried again on submit
}
