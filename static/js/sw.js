/* The service worker (served at /sw.js so that its scope is the whole app).
   Precaches the app shell under a versioned name; network first for pages with a short timeout, then
   the cached copy, then the offline page (for navigations only, never for htmx requests); keeps the
   pages of the sync manifest for use without signal; drains the outbox on background sync. */
'use strict';

var SETTINGS = /*SETTINGS*/{};
var SHELL = 'shell-' + SETTINGS.version;
var PAGES = 'pages-v1';  // kept across versions: they are refreshed on every sync
var NAVIGATION_TIMEOUT_MS = 3500;

importScripts(SETTINGS.store);

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    // Without cookies: the shell is the same for everybody and must never touch a session.
    return cache.addAll(SETTINGS.shell.map(function (url) { return new Request(url, { credentials: 'omit' }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf('shell-') === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function timeout(ms) {
  return new Promise(function (resolve, reject) { setTimeout(function () { reject(new Error('timeout')); }, ms); });
}

/* Mark a cached page so that it says "offline copy from HH:MM". A page kept before the scripts
   became modules (issue 10) loads our scripts as classic ones: load them as modules (all but the
   store, still classic), or the outbox would not record on it without signal. */
function asOfflineCopy(response) {
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.set('X-Offline-Copy', '1');
    html = html.replace(/<script src="([^"]*\/static\/js\/(?!outbox-store\.js)[^"]+)" defer><\/script>/g,
                        '<script type="module" src="$1"></script>');
    return new Response(html.replace('<html ', '<html data-offline-copy="1" '),
                        { status: 200, headers: headers });
  });
}

function cacheablePage(request, response) {
  return response && response.ok && response.type === 'basic' && !response.redirected &&
    (response.headers.get('Content-Type') || '').indexOf('text/html') === 0;
}

function cachedCopy(url) {
  // Any cache: a kept page, or the shell's own pages (the outbox page, the offline page).
  return caches.match(url, { ignoreVary: true });
}

function navigate(event) {
  var request = event.request;
  var network = fetch(request).then(function (response) {
    // Keep a visited page only when the server marks it as worth keeping (a work order, a courier's
    // shipment), or refresh one already kept: not every page a person opened stays on the phone.
    if (cacheablePage(request, response)) {
      var copy = response.clone();
      var keep = response.headers.get('X-Offline-Keep') === '1';
      caches.open(PAGES).then(function (cache) {
        return (keep ? Promise.resolve(true) : cache.match(request.url, { ignoreVary: true }))
          .then(function (known) { if (known) return cache.put(request.url, copy); });
      });
    }
    if (response.status >= 500) {
      // A proxy's 502/504 while the server restarts: the kept copy is more use than an error page.
      return cachedCopy(request.url).then(function (cached) { return cached ? asOfflineCopy(cached) : response; });
    }
    return response;
  });
  return Promise.race([network, timeout(NAVIGATION_TIMEOUT_MS)]).catch(function () {
    return cachedCopy(request.url)
      .then(function (cached) {
        if (cached) return asOfflineCopy(cached);
        // A slow network may still answer after the timeout; wait for it before giving up.
        return network.catch(function () {
          return caches.match(SETTINGS.offline).then(function (offline) {
            return offline || new Response('offline', { status: 503 });
          });
        });
      });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return;
  if (request.headers.get('HX-Request')) {
    // htmx gets the network's answer or a plain failure it can show, never the offline page.
    event.respondWith(fetch(request).catch(function () {
      return new Response('', { status: 503, statusText: 'Offline' });
    }));
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(navigate(event));
    return;
  }
  if (url.pathname.indexOf('/static/') === 0) {
    // Static files: the shell cache first, then the network (and keep scanner/signature files).
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (cached) {
      return cached || fetch(request).then(function (response) {
        if (response.ok && SETTINGS.lazy.indexOf(url.pathname) !== -1) {
          var copy = response.clone();
          caches.open(SHELL).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
  }
});

/* The scanner's decoder and the signature pad: not part of every first load, but kept once someone
   has logged in, so that they work without signal too. */
function keepLazyFiles(only) {
  return caches.open(SHELL).then(function (cache) {
    return Promise.all(SETTINGS.lazy.filter(function (url) { return !only || url.indexOf(only) !== -1; }).map(function (url) {
      return cache.match(url).then(function (hit) {
        return hit || cache.add(new Request(url, { credentials: 'omit' })).catch(function () {});
      });
    }));
  });
}

/* Fetch and keep the pages this phone may need without signal (the sync manifest). */
function refreshPages() {
  keepLazyFiles();
  return Outbox.getMeta('device').then(function (device) {
    var headers = { 'Accept': 'application/json' };
    if (device) headers.Authorization = 'Device ' + device.id + '.' + device.secret;
    return fetch(SETTINGS.manifest, { headers: headers, credentials: 'same-origin', redirect: 'manual' });
  }).then(function (response) {
    if (!response.ok) return 0;
    return response.json().then(function (data) {
      return caches.open(PAGES).then(function (cache) {
        return Promise.all(data.urls.map(function (path) {
          return fetch(path, { credentials: 'same-origin', redirect: 'manual' }).then(function (page) {
            if (cacheablePage(null, page)) return cache.put(new URL(path, self.location.origin).href, page);
          }).catch(function () {});
        })).then(function () { return data.urls.length; });
      });
    });
  }).catch(function () { return 0; });
}

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type === 'refresh-pages') {
    // A new person on the phone: start from an empty store, so the last person's pages are gone.
    var start = data.forget ? caches.delete(PAGES) : Promise.resolve();
    event.waitUntil(start.then(refreshPages).then(function (count) {
      if (event.source) event.source.postMessage({ type: 'pages-refreshed', count: count });
    }));
  } else if (data.type === 'keep') {
    // The kept page may need the signature pad: keep the lazy files too (no login on a courier's phone).
    event.waitUntil(keepLazyFiles('signature').then(function () { return caches.open(PAGES); }).then(function (cache) {
      return Promise.all((data.urls || []).filter(function (url) {
        return new URL(url).origin === self.location.origin;
      }).map(function (url) {
        return fetch(url, { credentials: 'same-origin', redirect: 'manual' }).then(function (page) {
          if (cacheablePage(null, page)) return cache.put(url, page);
        }).catch(function () {});
      }));
    }).then(function () {
      if (event.source) event.source.postMessage({ type: 'kept' });
    }));
  } else if (data.type === 'claim') {
    // A page that loaded while this worker was still activating is not yet controlled.
    event.waitUntil(self.clients.claim());
  } else if (data.type === 'drain') {
    event.waitUntil(Outbox.drain(true));
  } else if (data.type === 'forget-pages') {
    event.waitUntil(caches.delete(PAGES));
  }
});

self.addEventListener('sync', function (event) {
  if (event.tag === 'outbox') {
    event.waitUntil(Outbox.drain(false).then(function (result) {
      // Rejecting asks the browser to try the background sync again later.
      if (result.offline || result.waiting) throw new Error('still waiting');
    }));
  }
});
