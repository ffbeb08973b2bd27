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
        request.onsuccess = function () {
          var db = request.result;
          // iOS drops the connection of a page left in the background: open a new one next time.
          db.onclose = function () { opening = null; };
          db.onversionchange = function () { db.close(); opening = null; };
          resolve(db);
        };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  function once(storeName, mode, body) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = body(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  /* Run body(store) in one transaction and resolve with the result of the request it returns; a lost
     connection ("Connection to Indexed Database server lost") is reopened and tried once more. */
  function run(storeName, mode, body) {
    return once(storeName, mode, body).catch(function () {
      opening = null;
      return once(storeName, mode, body);
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
    return run('entries', 'readwrite', function (s) { return s.put(entry); }).then(function () { changed(null); });
  }
  function remove(id) {
    return run('entries', 'readwrite', function (s) { return s.delete(id); }).then(function () { changed(null); });
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

  var SEND_TIMEOUT_MS = 60000;

  function isJson(response) {
    return /^application\/(problem\+)?json/.test(response.headers.get('Content-Type') || '');
  }

  /* Send one entry. Resolves with {outcome, status, body}: outcome 'sent', 'retry' (server trouble),
     'offline' (no network) or 'stuck' (needs a person: conflict, refused, bad input). */
  function send(entry, device) {
    var headers = { 'Idempotency-Key': entry.id, 'X-Recorded-At': entry.recordedAt, 'Accept': 'application/json',
                    'X-Attempt': String(entry.attempts + 1) };
    if (entry.auth === 'link') {
      headers.Authorization = 'Link';  // a courier or customer link: the token in the URL is the credential
    } else {
      headers.Authorization = 'Device ' + device.id + '.' + device.secret;
      headers['X-Actor'] = String(entry.actor.id);
    }
    var abort = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, SEND_TIMEOUT_MS) : null;
    function later(outcome, status, message) {
      entry.attempts += 1;
      entry.nextTry = Date.now() + backoff(entry.attempts);
      entry.message = message || '';
      return put(entry).then(function () { return { outcome: outcome, status: status, body: {} }; });
    }
    // No cookie: the device credential authenticates, so an expired session cannot turn a replay
    // into a login page, and a redirect is never taken for success.
    return fetch(entry.url, { method: 'POST', body: body(entry), headers: headers, credentials: 'omit',
                              cache: 'no-store', redirect: 'manual', signal: abort ? abort.signal : undefined })
      .then(function (response) {
        clearTimeout(timer);
        if (response.ok && isJson(response)) {
          return response.json().then(function (answer) {
            return remove(entry.id).then(function () {
              // A page refreshes itself once its actions are sent, unless it shows answers itself.
              changed({ sent: entry.id, page: entry.quiet ? null : entry.page, message: answer.message || '',
                        download: answer.download || '' });
              return { outcome: 'sent', status: response.status, body: answer };
            });
          });
        }
        if (response.ok || response.type === 'opaqueredirect' || response.status >= 500 || response.status === 429 ||
            response.status === 408) {
          // A redirect, a proxy's page or a server error: not an answer of ours; try again later.
          return later('retry', response.status, response.status ? response.status + ' ' + response.statusText : '');
        }
        return (isJson(response) ? response.json() : Promise.resolve({})).catch(function () { return {}; })
          .then(function (problem) {
            entry.status = response.status === 409 ? 'conflict'
              : (response.status === 401 || response.status === 403) ? 'refused' : 'attention';
            entry.code = response.status;
            entry.reason = problem.reason || '';
            entry.message = problem.detail || problem.message || problem.title || String(response.status);
            entry.errors = problem.errors || null;
            var forget = response.status === 401 ? forgetDevice()
              : problem.reason === 'actor_not_enrolled' ? setMeta('members', []) : Promise.resolve();
            return forget.then(function () { return put(entry); })
              .then(function () { return { outcome: 'stuck', status: response.status, body: problem }; });
          });
      }, function () {
        clearTimeout(timer);
        return later('offline', 0, '');
      });
  }

  /* The server no longer knows this phone (a restored database): enrol afresh on the next page. */
  function forgetDevice() {
    return setMeta('device', null).then(function () { return setMeta('members', []); });
  }

  /* Send what is waiting, oldest first. An object's later actions wait behind one that must be tried
     again (order matters while the network is flaky); an entry that needs a person does not hold the
     rest back, or one refused photo would stop a whole work order. */
  function drainNow(force) {
    return getMeta('device').then(function (device) {
      return entries().then(function (list) {
        var held = {};
        var result = { sent: 0, left: 0, waiting: 0, offline: false, nextTry: 0 };
        var chain = Promise.resolve();
        list.forEach(function (entry) {
          chain = chain.then(function () {
            if (entry.status !== 'waiting') { result.left += 1; return; }
            var early = !force && entry.nextTry > Date.now();
            if (result.offline || held[entry.object] || early || (!device && entry.auth !== 'link')) {
              result.left += 1;
              result.waiting += 1;
              held[entry.object] = true;
              if (entry.nextTry && (!result.nextTry || entry.nextTry < result.nextTry)) result.nextTry = entry.nextTry;
              return;
            }
            return send(entry, device).then(function (answer) {
              if (answer.outcome === 'sent') { result.sent += 1; return; }
              result.left += 1;
              if (answer.outcome === 'stuck') return;
              result.waiting += 1;
              held[entry.object] = true;
              if (!result.nextTry || entry.nextTry < result.nextTry) result.nextTry = entry.nextTry;
              if (answer.outcome === 'offline') result.offline = true;
            });
          });
        });
        return chain.then(function () { return result; });
      });
    });
  }

  function locked(work) {
    if (root.navigator && root.navigator.locks) return root.navigator.locks.request(LOCK, work);
    return work();
  }

  /* One drain at a time across the pages and the service worker (Web Locks). */
  function drain(force) {
    return locked(function () { return drainNow(force); });
  }

  /* Send one entry now, in the drain's turn (the packing scanner shows each answer as it comes). */
  function sendOne(id) {
    return locked(function () {
      return Promise.all([getMeta('device'), run('entries', 'readonly', function (s) { return s.get(id); })])
        .then(function (got) {
          var device = got[0], entry = got[1];
          if (!entry) return { outcome: 'sent', status: 200, body: {} };  // a drain got there first
          if (!device && entry.auth !== 'link') return { outcome: 'retry', status: 0, body: {} };
          return send(entry, device);
        });
    });
  }

  root.Outbox = {
    add: add, entries: entries, put: put, remove: remove, counts: counts, drain: drain, sendOne: sendOne,
    getMeta: getMeta, setMeta: setMeta, onChange: onChange
  };
})(self);
