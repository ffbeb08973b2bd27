/* The page side of the outbox (DESIGN.md §5.7), as small modules under outbox/: offline-capable forms
   write to the outbox before any network attempt (forms.js, record.js, photos.js); who acts and the
   phone's credential (phone.js; switch.js on the switch page); sending (replay.js); what the page
   shows (ui.js); the service worker and the kept pages (pages.js); what they share (page.js). The
   store is outbox-store.js, shared with the worker. No inline script, no eval (strict CSP). */
import { available } from './outbox/page.js';
import { currentActor, keepPinVerifier, showActor } from './outbox/phone.js';
import { interceptForms } from './outbox/forms.js';
import { pagesFollowUser, refreshPages, startWorker } from './outbox/pages.js';
import { afterDrain, drain } from './outbox/replay.js';
import { followSentActions, refresh, showFlash, showOfflineCopy } from './outbox/ui.js';

/* Keep the pin verifier, show who is acting, drop another person's kept pages, then send what waits. */
async function catchUp() {
  await keepPinVerifier();
  showActor(await currentActor());
  const newPerson = await pagesFollowUser();
  const result = await drain(false);
  refreshPages(newPerson || (result && result.sent > 0));
}

if (available) {
  interceptForms();
  afterDrain(refresh);
  followSentActions();
  startWorker();
  showOfflineCopy();
  showFlash();
  catchUp();
  window.addEventListener('online', () => drain(true));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') drain(false); });
  const sendNow = document.getElementById('outbox-send');
  if (sendNow) sendNow.addEventListener('click', () => drain(true));
}
