/* The outbox: actions recorded on this phone, kept until the server has them (DESIGN.md §5.7). No DOM.
   A classic script assigning to self: the service worker importScripts it (module workers are missing
   on some WebViews) and the pages run it before their modules (outbox/page.js takes self.Outbox). Storage is an interface (IndexedDB here, in memory
   in tests/js). Keep the entry format and the database: entries queued before an upgrade must replay. */
(function (root) {
  'use strict';

  /* The storage interface: get(store, key), getAll(store), put(store, value, key?), delete(store, key),
     each a promise. Two stores: 'entries' (keyed by the entry's id) and 'meta' (explicit keys). */
  function indexedDbStorage(name) {
    let opening = null;

    function database() {
      if (!opening) {
        opening = new Promise((resolve, reject) => {
          const request = indexedDB.open(name, 1);
          request.onupgradeneeded = () => {
            const db = request.result;
            db.createObjectStore('entries', { keyPath: 'id' });
            db.createObjectStore('meta');
          };
          request.onsuccess = () => {
            const db = request.result;
            // iOS drops the connection of a page left in the background: open a new one next time.
            db.onclose = () => { opening = null; };
            db.onversionchange = () => { db.close(); opening = null; };
            resolve(db);
          };
          request.onerror = () => { opening = null; reject(request.error); };
        });
      }
      return opening;
    }

    async function once(storeName, mode, body) {
      const db = await database();
      return new Promise((resolve, reject) => {
        const tx = db.transaction(storeName, mode);
        const request = body(tx.objectStore(storeName));
        tx.oncomplete = () => resolve(request ? request.result : undefined);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    }

    /* One transaction; a lost connection ("Connection to Indexed Database server lost") is reopened
       and tried once more. */
    async function run(storeName, mode, body) {
      try {
        return await once(storeName, mode, body);
      } catch (error) {
        opening = null;
        return once(storeName, mode, body);
      }
    }

    return {
      get: (store, key) => run(store, 'readonly', (s) => s.get(key)),
      getAll: (store) => run(store, 'readonly', (s) => s.getAll()),
      put: (store, value, key) => run(store, 'readwrite', (s) => (key === undefined ? s.put(value) : s.put(value, key))),
      delete: (store, key) => run(store, 'readwrite', (s) => s.delete(key)),
    };
  }

  const SEND_TIMEOUT_MS = 60000;

  /* How long to wait before the next try: doubling from 2 s up to 5 min, jittered to half-full. */
  function backoff(attempts, random) {
    const base = Math.min(300000, 2000 * Math.pow(2, Math.max(0, attempts - 1)));
    return base / 2 + (random || Math.random)() * base / 2;
  }

  /* Entries by state, for the badge: waiting, needing attention, in conflict. */
  function counts(list) {
    const result = { waiting: 0, attention: 0, conflict: 0, total: list.length };
    for (const entry of list) {
      if (entry.status === 'conflict') result.conflict += 1;
      else if (entry.status === 'waiting') result.waiting += 1;
      else result.attention += 1;
    }
    return result;
  }

  function isJson(response) {
    return /^application\/(problem\+)?json/.test(response.headers.get('Content-Type') || '');
  }

  function formBody(entry) {
    const form = new FormData();
    for (const [name, value] of entry.fields) form.append(name, value);
    for (const [name, blob, filename] of entry.files || []) form.append(name, blob, filename);
    return form;
  }

  /* The outbox over a storage. env (all optional, for tests): fetch, channel (a BroadcastChannel),
     locks (Web Locks), now, seq, random, uuid, sendTimeoutMs. */
  function createOutbox(storage, env) {
    env = env || {};
    const fetchNow = env.fetch || ((url, init) => root.fetch(url, init));
    const channel = env.channel || null;
    const locks = 'locks' in env ? env.locks : (root.navigator && root.navigator.locks) || null;
    const now = env.now || (() => Date.now());
    const seq = env.seq || (() => Date.now() + (performance.now() % 1));
    const random = env.random || Math.random;
    const uuid = env.uuid || (() => crypto.randomUUID());
    const sendTimeoutMs = env.sendTimeoutMs || SEND_TIMEOUT_MS;
    const listeners = [];

    const getMeta = (key) => storage.get('meta', key);
    const setMeta = (key, value) => storage.put('meta', value, key);

    async function entries() {
      const list = await storage.getAll('entries');
      return list.sort((a, b) => a.seq - b.seq);
    }
    async function put(entry) {
      await storage.put('entries', entry);
      changed(null);
    }
    async function remove(id) {
      await storage.delete('entries', id);
      changed(null);
    }

    /* Tell this context's listeners and every other page and the worker (a BroadcastChannel does not
       deliver to its own sender). */
    function changed(detail) {
      const message = { type: 'changed', detail: detail || null };
      listeners.forEach((listener) => listener(message));
      if (channel) channel.postMessage(message);
    }
    function onChange(listener) { listeners.push(listener); }
    if (channel) channel.onmessage = (event) => listeners.forEach((listener) => listener(event.data));

    /* Record an action before any network attempt. */
    async function add(entry) {
      entry.id = entry.id || uuid();
      entry.seq = seq();
      entry.status = 'waiting';
      entry.attempts = 0;
      entry.nextTry = 0;
      await put(entry);
      return entry;
    }

    /* The server no longer knows this phone (a restored database): enrol afresh on the next page. */
    async function forgetDevice() {
      await setMeta('device', null);
      await setMeta('members', []);
    }

    /* Not sent this time: count the try and say when the next one is due. */
    async function later(entry, outcome, status, message) {
      entry.attempts += 1;
      entry.nextTry = now() + backoff(entry.attempts, random);
      entry.message = message || '';
      await put(entry);
      return { outcome: outcome, status: status, body: {} };
    }

    /* Send one entry. Resolves with {outcome, status, body}: outcome 'sent', 'retry' (server trouble),
       'offline' (no network) or 'stuck' (needs a person: conflict, refused, bad input). */
    async function send(entry, device) {
      const headers = { 'Idempotency-Key': entry.id, 'X-Recorded-At': entry.recordedAt, 'Accept': 'application/json',
                        'X-Attempt': String(entry.attempts + 1) };
      if (entry.auth === 'link') {
        headers.Authorization = 'Link';  // a courier or customer link: the token in the URL is the credential
      } else {
        headers.Authorization = 'Device ' + device.id + '.' + device.secret;
        headers['X-Actor'] = String(entry.actor.id);
      }
      const abort = typeof AbortController === 'function' ? new AbortController() : null;
      const timer = abort ? setTimeout(() => abort.abort(), sendTimeoutMs) : null;
      let response;
      try {
        // No cookie: the device credential authenticates, so an expired session cannot turn a replay
        // into a login page, and a redirect is never taken for success.
        response = await fetchNow(entry.url, { method: 'POST', body: formBody(entry), headers: headers, credentials: 'omit',
                                               cache: 'no-store', redirect: 'manual', signal: abort ? abort.signal : undefined });
      } catch (error) {
        return later(entry, 'offline', 0, '');
      } finally {
        clearTimeout(timer);
      }
      if (response.ok && isJson(response)) {
        const answer = await response.json();
        await remove(entry.id);
        // A page refreshes itself once its actions are sent, unless it shows answers itself.
        changed({ sent: entry.id, page: entry.quiet ? null : entry.page, message: answer.message || '',
                  download: answer.download || '' });
        return { outcome: 'sent', status: response.status, body: answer };
      }
      if (response.ok || response.type === 'opaqueredirect' || response.status >= 500 || response.status === 429 ||
          response.status === 408) {
        // A redirect, a proxy's page or a server error: not an answer of ours; try again later.
        return later(entry, 'retry', response.status, response.status ? response.status + ' ' + response.statusText : '');
      }
      let problem = {};
      if (isJson(response)) {
        try { problem = await response.json(); } catch (error) { problem = {}; }
      }
      entry.status = response.status === 409 ? 'conflict'
        : (response.status === 401 || response.status === 403) ? 'refused' : 'attention';
      entry.code = response.status;
      entry.reason = problem.reason || '';
      entry.message = problem.detail || problem.message || problem.title || String(response.status);
      entry.errors = problem.errors || null;
      if (response.status === 401) await forgetDevice();
      else if (problem.reason === 'actor_not_enrolled') await setMeta('members', []);
      await put(entry);
      return { outcome: 'stuck', status: response.status, body: problem };
    }

    /* Send what is waiting, oldest first. An object's later actions wait behind one that must be tried
       again (order matters while the network is flaky); an entry that needs a person does not hold the
       rest back, or one refused photo would stop a whole work order. */
    async function drainNow(force) {
      const device = await getMeta('device');
      const list = await entries();
      const held = {};
      const result = { sent: 0, left: 0, waiting: 0, offline: false, nextTry: 0 };
      for (const entry of list) {
        if (entry.status !== 'waiting') { result.left += 1; continue; }
        const early = !force && entry.nextTry > now();
        if (result.offline || held[entry.object] || early || (!device && entry.auth !== 'link')) {
          result.left += 1;
          result.waiting += 1;
          held[entry.object] = true;
          if (entry.nextTry && (!result.nextTry || entry.nextTry < result.nextTry)) result.nextTry = entry.nextTry;
          continue;
        }
        const answer = await send(entry, device);
        if (answer.outcome === 'sent') { result.sent += 1; continue; }
        result.left += 1;
        if (answer.outcome === 'stuck') continue;
        result.waiting += 1;
        held[entry.object] = true;
        if (!result.nextTry || entry.nextTry < result.nextTry) result.nextTry = entry.nextTry;
        if (answer.outcome === 'offline') result.offline = true;
      }
      return result;
    }

    /* One drain at a time across the pages and the service worker (Web Locks). */
    function locked(work) {
      return locks ? locks.request('tracker-outbox-drain', work) : work();
    }

    function drain(force) {
      return locked(() => drainNow(force));
    }

    /* Send one entry now, in the drain's turn (the packing scanner shows each answer as it comes). */
    function sendOne(id) {
      return locked(async () => {
        const [device, entry] = await Promise.all([getMeta('device'), storage.get('entries', id)]);
        if (!entry) return { outcome: 'sent', status: 200, body: {} };  // a drain got there first
        if (!device && entry.auth !== 'link') return { outcome: 'retry', status: 0, body: {} };
        return send(entry, device);
      });
    }

    return {
      add: add, entries: entries, put: put, remove: remove, counts: counts, drain: drain, sendOne: sendOne,
      getMeta: getMeta, setMeta: setMeta, onChange: onChange
    };
  }

  root.OutboxStore = { create: createOutbox, indexedDbStorage: indexedDbStorage, counts: counts, backoff: backoff };
  if (root.indexedDB) {
    root.Outbox = createOutbox(indexedDbStorage('tracker-outbox'), {
      channel: typeof BroadcastChannel === 'function' ? new BroadcastChannel('tracker-outbox') : null
    });
  }
})(self);
