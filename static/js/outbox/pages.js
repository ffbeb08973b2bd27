/* The service worker and the pages it keeps for use without signal (the sync manifest, the pages
   this one links to), dropped when the person on the phone changes. */
import { Outbox, config, isOfflineCopy } from './page.js';

const REFRESH_EVERY_MS = 5 * 60 * 1000;

/* Logging out keeps the outbox (its actions are sent under the device credential) but drops the kept
   pages, which show the logged-in person's work. */
export function forgetPages() {
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: 'forget-pages' });
  }
  Outbox.setMeta('pagesAt', 0);
}

/* Pages kept for offline use show one person's work: a different person (or nobody) on a live page
   drops them before anything else can show them. Resolves true for a new person. */
export async function pagesFollowUser() {
  if (isOfflineCopy()) return false;
  const now = config.user ? config.user.id : null;
  const before = await Outbox.getMeta('pagesUser');
  if ((before === undefined && !now) || before === now) return false;
  // A new person: the refresh starts from an empty store; nobody: drop the pages now.
  if (!now && before !== undefined && before !== null) forgetPages();
  await Outbox.setMeta('pagesUser', now);
  return !!now;
}

/* Ask the worker to fetch the sync manifest's pages again (at most every few minutes unless forced,
   or the person chose another language: the kept pages show the words they were fetched in). */
export async function refreshPages(force) {
  if (!config.user || isOfflineCopy() || !navigator.onLine || !('serviceWorker' in navigator)) return;
  const lang = document.documentElement.lang;
  const [at, keptIn] = await Promise.all([Outbox.getMeta('pagesAt'), Outbox.getMeta('pagesLang')]);
  if (!force && keptIn === lang && at && Date.now() - at < REFRESH_EVERY_MS) return;
  const registration = await navigator.serviceWorker.ready;
  registration.active.postMessage({ type: 'refresh-pages', forget: !!force || keptIn !== lang });
  await Promise.all([Outbox.setMeta('pagesAt', Date.now()), Outbox.setMeta('pagesLang', lang)]);
}

/* Pages this page says will be needed next (the receipt a courier may have signed without signal). */
async function keepLinkedPages() {
  const urls = Array.from(document.querySelectorAll('a[data-offline-keep]'), (a) => a.href);
  if (!urls.length || isOfflineCopy() || !('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.ready;
  registration.active.postMessage({ type: 'keep', urls: urls });
}

/* The scanner's 1 MB decoder, kept on the phone of a person who scans (the server lists its files
   for them only), fetched once per device: asked of the worker only while a file is not kept yet. */
async function keepScanner() {
  const urls = config.scanner || [];
  if (!urls.length || isOfflineCopy() || !navigator.onLine || !('caches' in self)) return;
  const kept = await Promise.all(urls.map((url) => caches.match(url)));
  if (kept.every(Boolean)) {
    document.documentElement.setAttribute('data-scanner-kept', '1');
    return;
  }
  const registration = await navigator.serviceWorker.ready;
  registration.active.postMessage({ type: 'keep-scanner' });
}

/* The person's language, where the worker reads it: one worker serves every language and shows its
   kept offline and outbox pages in the language the last live page was in. */
export function recordLanguage() {
  if (isOfflineCopy()) return Promise.resolve();
  const lang = config.lang || (document.documentElement.lang || '').split('-')[0];
  return lang ? Outbox.setMeta('lang', lang).catch(() => {}) : Promise.resolve();
}

/* Register the worker; the page marks what it reports (the browser tests wait for these marks). */
export function startWorker() {
  recordLanguage();
  if ('serviceWorker' in navigator) {
    // Without its ?lang=: a page kept before there was one worker for every language names
    // /sw.js?lang=…, another script URL, which would install the worker again.
    navigator.serviceWorker.register(config.swUrl.split('?')[0], { scope: '/' }).catch(() => {});
    navigator.serviceWorker.ready.then((registration) => {
      // A page that loaded while the worker was still activating is not yet controlled.
      if (!navigator.serviceWorker.controller && registration.active) registration.active.postMessage({ type: 'claim' });
    });
    keepLinkedPages();
    keepScanner().catch(() => {});
    navigator.serviceWorker.addEventListener('message', (event) => {
      const data = event.data || {};
      if (data.type === 'pages-refreshed') document.documentElement.setAttribute('data-pages-kept', data.count);
      if (data.type === 'kept') document.documentElement.setAttribute('data-linked-kept', '1');
      if (data.type === 'scanner-kept') document.documentElement.setAttribute('data-scanner-kept', '1');
    });
  }
  if (navigator.storage && navigator.storage.persist) {
    // Ask the browser not to evict the outbox under storage pressure.
    navigator.storage.persisted().then((yes) => { if (!yes) navigator.storage.persist(); }).catch(() => {});
  }
}
