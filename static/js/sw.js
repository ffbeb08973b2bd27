/* The service worker (served at /sw.js so that its scope is the whole app).
   Precaches the app shell under a versioned name; network first for pages with a short timeout, then
   the cached copy, then the offline page (for navigations only, never for htmx requests); keeps the
   pages of the sync manifest for use without signal; drains the outbox on background sync.
   A classic script (importScripts; module workers are missing on some phones' WebViews).
   One worker for every language (a phone shared by people of different languages must not install a
   new worker at each switch): the offline and outbox pages are kept in every language, each under its
   own URL (/offline?lang=zh), and shown in the language the last live page recorded (meta 'lang'). */
'use strict';

var SETTINGS = /*SETTINGS*/{};
const SHELL = 'shell-' + SETTINGS.version;
const PAGES = 'pages-v1';  // kept across versions: they are refreshed on every sync
// The scanner's decoder and the signature pad, under their content-hashed names: kept across versions
// (a new shell must not fetch the 1 MB decoder again), pruned to the current names on activation.
const LAZY = 'lazy-v1';
const NAVIGATION_TIMEOUT_MS = 3500;

importScripts(SETTINGS.store);

/* Without cookies: the shell is the same for everybody and must never touch a session. */
function cookieless(url) {
  return new Request(url, { credentials: 'omit' });
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // The offline and outbox pages in every language (the URL's ?lang=, not the browser's
    // Accept-Language), each kept under its own URL; fetched first, so that a failure writes nothing.
    const urls = [].concat(...Object.keys(SETTINGS.pages).map((path) => Object.values(SETTINGS.pages[path])));
    const pages = await Promise.all(urls.map(async (url) => {
      const response = await fetch(cookieless(url));
      if (!response.ok) throw new TypeError('shell page ' + url + ' answered ' + response.status);
      return [url, response];
    }));
    const cache = await caches.open(SHELL);
    await cache.addAll(SETTINGS.shell.map(cookieless));
    await Promise.all(pages.map(([url, response]) => cache.put(url, response)));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.indexOf('shell-') === 0 && name !== SHELL)
      .map((name) => caches.delete(name)));
    const lazy = await caches.open(LAZY);
    const kept = await lazy.keys();
    await Promise.all(kept.filter((request) => SETTINGS.lazy.indexOf(new URL(request.url).pathname) === -1)
      .map((request) => lazy.delete(request)));
    await self.clients.claim();
  })());
});

function timeout(ms) {
  return new Promise((resolve, reject) => { setTimeout(() => reject(new Error('timeout')), ms); });
}

/* Mark a cached page so that it says "offline copy from HH:MM". A page kept before the scripts
   became modules (issue 10) loads our scripts as classic ones: load them as modules (all but the
   store, still classic, under its plain or hashed name), or the outbox would not record on it
   without signal. */
async function asOfflineCopy(response) {
  let html = await response.text();
  const headers = new Headers(response.headers);
  headers.set('X-Offline-Copy', '1');
  html = html.replace(/<script src="([^"]*\/static\/js\/(?!outbox-store\.)[^"]+)" defer><\/script>/g,
                      '<script type="module" src="$1"></script>');
  return new Response(html.replace('<html ', '<html data-offline-copy="1" '), { status: 200, headers: headers });
}

function cacheablePage(request, response) {
  return response && response.ok && response.type === 'basic' && !response.redirected &&
    (response.headers.get('Content-Type') || '').indexOf('text/html') === 0;
}

/* The shell's own page at path (the offline page, the outbox page) in the person's language: the one
   the last live page recorded, else the firm's default, else any language kept. */
async function shellPage(path) {
  const variants = SETTINGS.pages[path];
  if (!variants) return undefined;
  let lang;
  try {
    lang = await Outbox.getMeta('lang');
  } catch (error) {
    lang = undefined;  // no store: the default language
  }
  const order = [lang, SETTINGS.defaultLanguage, ...Object.keys(variants)];
  for (const code of order) {
    const cached = code && variants[code] ? await caches.match(variants[code]) : undefined;
    if (cached) return cached;
  }
  return undefined;
}

async function cachedCopy(url) {
  // The shell's own pages (the outbox page, the offline page) in the person's language; else any
  // cache: a kept page.
  return (await shellPage(new URL(url).pathname)) || caches.match(url, { ignoreVary: true });
}

/* Keep a visited page only when the server marks it as worth keeping (a work order, a courier's
   shipment), or refresh one already kept: not every page a person opened stays on the phone. */
async function keepVisited(request, copy, keep) {
  const cache = await caches.open(PAGES);
  const known = keep || await cache.match(request.url, { ignoreVary: true });
  if (known) await cache.put(request.url, copy);
}

async function fromNetwork(request) {
  const response = await fetch(request);
  if (cacheablePage(request, response)) {
    keepVisited(request, response.clone(), response.headers.get('X-Offline-Keep') === '1');
  }
  if (response.status >= 500) {
    // A proxy's 502/504 while the server restarts: the kept copy is more use than an error page.
    const cached = await cachedCopy(request.url);
    return cached ? asOfflineCopy(cached) : response;
  }
  return response;
}

async function navigate(event) {
  const request = event.request;
  const network = fromNetwork(request);
  try {
    return await Promise.race([network, timeout(NAVIGATION_TIMEOUT_MS)]);
  } catch (error) {
    const cached = await cachedCopy(request.url);
    if (cached) return asOfflineCopy(cached);
    // A slow network may still answer after the timeout; wait for it before giving up.
    try {
      return await network;
    } catch (failure) {
      const offline = await shellPage(SETTINGS.offline);
      return offline || new Response('offline', { status: 503 });
    }
  }
}

/* A static name without its content hash: /static/js/ui.1a2b3c4d.js → /static/js/ui.js. */
function plainPath(pathname) {
  return pathname.replace(/\.[0-9a-f]{8}(\.[A-Za-z0-9]+)$/, '$1');
}

/* Static files: the cached copy first, then the network (and keep scanner/signature files). A plain
   name (a browser without import maps, a page kept before hashed names) or an outdated hash (a page
   kept from an older version) gets this version's copy of the same file. */
async function staticFile(request, url) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const current = SETTINGS.names[plainPath(url.pathname)];
  if (current && current !== url.pathname) {
    const same = await caches.match(current);
    if (same) return same;
  }
  const response = await fetch(request);
  if (response.ok && SETTINGS.lazy.indexOf(url.pathname) !== -1) {
    const copy = response.clone();
    caches.open(LAZY).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return;
  if (request.headers.get('HX-Request')) {
    // htmx gets the network's answer or a plain failure it can show, never the offline page.
    event.respondWith(fetch(request).catch(() => new Response('', { status: 503, statusText: 'Offline' })));
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(navigate(event));
    return;
  }
  if (url.pathname.indexOf('/static/') === 0) event.respondWith(staticFile(request, url));
});

/* The signature pad (once someone has logged in, or a courier's page kept) and the scanner's decoder
   (once, for a person who scans: the page asks): not part of every first load, but kept so that they
   work without signal too. A file already kept is not fetched again. */
async function keepLazyFiles(urls) {
  const cache = await caches.open(LAZY);
  await Promise.all(urls.map(async (url) => {
    if (await caches.match(url)) return;
    await cache.add(cookieless(url)).catch(() => {});
  }));
}

function signatureFiles() {
  return SETTINGS.lazy.filter((url) => SETTINGS.scanner.indexOf(url) === -1);
}

/* Fetch a page for later use without signal; a page that cannot be had now is left out. */
async function keepPage(cache, url) {
  try {
    // X-Kept-Page: kept for later, not shown now, so the server leaves the person's flashed messages
    // for the page they are opening (this fetch runs beside it, with the same cookie).
    const page = await fetch(url, { credentials: 'same-origin', redirect: 'manual', headers: { 'X-Kept-Page': '1' } });
    if (cacheablePage(null, page)) await cache.put(url, page);
  } catch (error) {
    // no signal or no answer: the next refresh tries again
  }
}

/* Fetch and keep the pages this phone may need without signal (the sync manifest). */
async function refreshPages() {
  keepLazyFiles(signatureFiles());
  try {
    const device = await Outbox.getMeta('device');
    const headers = { 'Accept': 'application/json' };
    if (device) headers.Authorization = 'Device ' + device.id + '.' + device.secret;
    const response = await fetch(SETTINGS.manifest, { headers: headers, credentials: 'same-origin', redirect: 'manual' });
    if (!response.ok) return 0;
    const data = await response.json();
    const cache = await caches.open(PAGES);
    await Promise.all(data.urls.map((path) => keepPage(cache, new URL(path, self.location.origin).href)));
    return data.urls.length;
  } catch (error) {
    return 0;
  }
}

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'refresh-pages') {
    event.waitUntil((async () => {
      // A new person on the phone: start from an empty store, so the last person's pages are gone.
      if (data.forget) await caches.delete(PAGES);
      const count = await refreshPages();
      if (event.source) event.source.postMessage({ type: 'pages-refreshed', count: count });
    })());
  } else if (data.type === 'keep') {
    event.waitUntil((async () => {
      // The kept page may need the signature pad: keep the lazy files too (no login on a courier's phone).
      await keepLazyFiles(signatureFiles());
      const cache = await caches.open(PAGES);
      await Promise.all((data.urls || []).filter((url) => new URL(url).origin === self.location.origin)
        .map((url) => keepPage(cache, url)));
      if (event.source) event.source.postMessage({ type: 'kept' });
    })());
  } else if (data.type === 'keep-scanner') {
    // Asked by a page of a person who scans (outbox/pages.js), when the decoder is not kept yet.
    event.waitUntil((async () => {
      await keepLazyFiles(SETTINGS.scanner);
      if (event.source) event.source.postMessage({ type: 'scanner-kept' });
    })());
  } else if (data.type === 'claim') {
    // A page that loaded while this worker was still activating is not yet controlled.
    event.waitUntil(self.clients.claim());
  } else if (data.type === 'drain') {
    event.waitUntil(Outbox.drain(true));
  } else if (data.type === 'forget-pages') {
    event.waitUntil(caches.delete(PAGES));
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox') {
    event.waitUntil((async () => {
      const result = await Outbox.drain(false);
      // Rejecting asks the browser to try the background sync again later.
      if (result.offline || result.waiting) throw new Error('still waiting');
    })());
  }
});
