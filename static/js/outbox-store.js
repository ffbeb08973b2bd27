/* The outbox: actions recorded on this phone, kept in IndexedDB until the server has them.
   Shared by the pages (outbox.js) and the service worker (sw.js); no DOM here. DESIGN.md §5.7. */
(function (root) {
  'use strict';

  var DB_NAME = 'tracker-outbox';
  var LOCK = 'tracker-outbox-drain';
  var channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tracker-outbox') : null;
  var opening = null;

  function database() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore('entries', { keyPath: 'id' });
          db.createObjectStore('meta');
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  /* Run body(store) in one transaction; resolves with the result of the request body returns. */
  function run(storeName, mode, body) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = body(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function getMeta(key) { return run('meta', 'readonly', function (s) { return s.get(key); }); }
  function setMeta(key, value) { return run('meta', 'readwrite', function (s) { return s.put(value, key); }); }

  function entries() {
    return run('entries', 'readonly', function (s) { return s.getAll(); }).then(function (list) {
      return list.sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function put(entry) {
    return run('entries', 'readwrite', function (s) { return s.put(entry); }).then(changed);
  }
  function remove(id) {
    return run('entries', 'readwrite', function (s) { return s.delete(id); }).then(changed);
  }
  var listeners = [];
  /* Tell this context's listeners and every other page and the worker (a BroadcastChannel does not
     deliver to its own sender). */
  function changed(detail) {
    var message = { type: 'changed', detail: detail || null };
    listeners.forEach(function (listener) { listener(message); });
    if (channel) channel.postMessage(message);
  }
  function onChange(listener) { listeners.push(listener); }
  if (channel) channel.onmessage = function (event) { listeners.forEach(function (l) { l(event.data); }); };

  /* Record an action before any network attempt. */
  function add(entry) {
    entry.id = entry.id || crypto.randomUUID();
    entry.seq = Date.now() + (performance.now() % 1);
    entry.status = 'waiting';
    entry.attempts = 0;
    entry.nextTry = 0;
    return put(entry).then(function () { return entry; });
  }

  function counts(list) {
    var result = { waiting: 0, attention: 0, conflict: 0, total: list.length };
    list.forEach(function (e) {
      if (e.status === 'conflict') result.conflict += 1;
      else if (e.status === 'waiting') result.waiting += 1;
      else result.attention += 1;
    });
    return result;
  }

  function backoff(attempts) {
    var base = Math.min(300000, 2000 * Math.pow(2, Math.max(0, attempts - 1)));
    return base / 2 + Math.random() * base / 2;
  }

  function body(entry) {
    var form = new FormData();
    entry.fields.forEach(function (pair) { form.append(pair[0], pair[1]); });
    (entry.files || []).forEach(function (f) { form.append(f[0], f[1], f[2]); });
    return form;
  }

  /* Send one entry; returns 'sent', 'retry' (network or server trouble) or 'stuck' (needs a person). */
  function send(entry, device) {
    var headers = { 'Idempotency-Key': entry.id, 'X-Recorded-At': entry.recordedAt, 'Accept': 'application/json' };
    if (entry.auth === 'link') {
      headers.Authorization = 'Link';  // a courier or customer link: the token in the URL is the credential
    } else {
      headers.Authorization = 'Device ' + device.id + '.' + device.secret;
      headers['X-Actor'] = String(entry.actor.id);
    }
    // No cookie: the device credential authenticates, so an expired session cannot turn a replay
    // into a login page, and a redirect is never taken for success.
    return fetch(entry.url, { method: 'POST', body: body(entry), headers: headers, credentials: 'omit',
                              cache: 'no-store', redirect: 'manual' })
      .then(function (response) {
        if (response.ok) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            return remove(entry.id).then(function () {
              changed({ sent: entry.id, page: entry.page, message: answer.message || '' });
              return 'sent';
            });
          });
        }
        if (response.type === 'opaqueredirect' || response.status >= 500 || response.status === 429 ||
            response.status === 408) {
          entry.attempts += 1;
          entry.nextTry = Date.now() + backoff(entry.attempts);
          entry.message = response.type === 'opaqueredirect' ? '' : response.status + ' ' + response.statusText;
          return put(entry).then(function () { return 'retry'; });
        }
        return response.json().catch(function () { return {}; }).then(function (problem) {
          entry.status = response.status === 409 ? 'conflict'
            : (response.status === 401 || response.status === 403) ? 'refused' : 'attention';
          entry.code = response.status;
          entry.message = problem.detail || problem.title || String(response.status);
          entry.errors = problem.errors || null;
          return put(entry).then(function () { return 'stuck'; });
        });
      }, function () {
        entry.attempts += 1;
        entry.nextTry = Date.now() + backoff(entry.attempts);
        return put(entry).then(function () { return 'offline'; });
      });
  }

  /* Send what is waiting, oldest first; an object's later actions wait behind its stuck ones. */
  function drainNow(force) {
    return getMeta('device').then(function (device) {
      return entries().then(function (list) {
        var blocked = {};
        var result = { sent: 0, left: 0, offline: false };
        var chain = Promise.resolve();
        list.forEach(function (entry) {
          chain = chain.then(function () {
            if (result.offline) { result.left += 1; return; }
            if (blocked[entry.object] || entry.status !== 'waiting' || (!device && entry.auth !== 'link') ||
                (!force && entry.nextTry > Date.now())) {
              blocked[entry.object] = true;
              result.left += 1;
              return;
            }
            return send(entry, device).then(function (outcome) {
              if (outcome === 'sent') { result.sent += 1; return; }
              result.left += 1;
              blocked[entry.object] = true;
              if (outcome === 'offline') result.offline = true;
            });
          });
        });
        return chain.then(function () { return result; });
      });
    });
  }

  /* One drain at a time across the pages and the service worker (Web Locks). */
  function drain(force) {
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request(LOCK, function () { return drainNow(force); });
    }
    return drainNow(force);
  }

  root.Outbox = {
    add: add, entries: entries, put: put, remove: remove, counts: counts, drain: drain,
    getMeta: getMeta, setMeta: setMeta, onChange: onChange
  };
})(self);
