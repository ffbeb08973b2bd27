/* The page side of the outbox (DESIGN.md §5.7): offline-capable forms write to the outbox before any
   network attempt; the badge, the inline "waiting" notes, the offline copy banner, the offline worker
   switch, and the outbox page. Depends on outbox-store.js. No inline script, no eval (strict CSP). */
(function () {
  'use strict';

  var Outbox = window.Outbox;
  var configNode = document.getElementById('app-config');
  if (!configNode || !Outbox || !window.indexedDB) return;
  var config = JSON.parse(configNode.textContent);
  var t = config.i18n;
  var REFRESH_EVERY_MS = 5 * 60 * 1000;
  // A one-time form's "done" view (the receipt); kept here, since showing it replaces the page's main.
  var doneTemplate = document.getElementById('offline-done');
  var PIN_ROUNDS = 100000;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /* Put values into a translated text's %(name)s places (each place may occur more than once). */
  function fill(text, values) {
    return Object.keys(values).reduce(function (out, key) {
      return out.split('%(' + key + ')s').join(String(values[key]));
    }, text);
  }
  function time(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
  }
  /* A kept copy, or the offline page: not the server's word on who is logged in now. */
  function isOfflineCopy() {
    return document.documentElement.hasAttribute('data-offline-copy') || document.documentElement.hasAttribute('data-offline-page');
  }

  /* --- who is acting on this phone ------------------------------------------------------------- */

  function currentActor() {
    return Outbox.getMeta('actor').then(function (actor) {
      if (config.user && !isOfflineCopy()) {
        // A page from the server says who is logged in: that is the truth while online.
        if (!actor || actor.id !== config.user.id) {
          if (actor && actor.offline) showSwitchedBack(actor);
          actor = { id: config.user.id, name: config.user.name };
          return Outbox.setMeta('actor', actor).then(function () { return actor; });
        }
      }
      return actor || config.user;
    });
  }

  /* Someone switched in without signal; the server's session still has the person before them. */
  function showSwitchedBack(offlineActor) {
    var main = document.getElementById('main');
    var note = el('p', 'offline-copy');
    note.setAttribute('role', 'alert');
    note.appendChild(document.createTextNode(fill(t.switchedBack, { offline: offlineActor.name, name: config.user.name }) + ' '));
    var link = el('a', '', t.switchAgain);
    link.href = config.switchUrl;
    note.appendChild(link);
    main.insertBefore(note, main.firstChild);
  }

  function showActor(actor) {
    var who = document.querySelector('.top .who');
    if (who && actor && who.textContent !== actor.name) who.textContent = actor.name;
  }

  /* --- the device credential ------------------------------------------------------------------- */

  function ensureDevice() {
    if (!config.user || isOfflineCopy() || !navigator.onLine) return Promise.resolve();
    return Promise.all([Outbox.getMeta('device'), Outbox.getMeta('members')]).then(function (got) {
      var device = got[0], members = got[1] || [];
      if (device && members.some(function (m) { return m.id === config.user.id; })) return false;
      var headers = { 'X-CSRFToken': config.csrf, 'Accept': 'application/json' };
      if (device) headers.Authorization = 'Device ' + device.id + '.' + device.secret;
      return fetch(config.enrolUrl, { method: 'POST', headers: headers, credentials: 'same-origin' })
        .then(function (response) {
          if (response.status === 403) return Outbox.setMeta('revoked', true).then(function () { return false; });
          if (!response.ok) return false;
          return response.json().then(function (data) {
            var saving = [Outbox.setMeta('members', data.members)];
            if (data.secret) saving.push(Outbox.setMeta('device', { id: data.device, secret: data.secret }));
            return Promise.all(saving).then(function () { return true; });
          });
        }).catch(function () { return false; });
    });
  }

  /* --- recording an action --------------------------------------------------------------------- */

  function downscale(file) {
    // Photos travel as ~1600 px JPEGs: a 12 MP original would not fit through a weak signal.
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || typeof createImageBitmap !== 'function') {
      return Promise.resolve({ blob: file, name: file.name });
    }
    // No options: EXIF orientation is applied by default, and Safari 16 throws on the option.
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve({ blob: blob || file, name: (file.name || 'photo').replace(/\.\w+$/, '') + '.jpg' });
        }, 'image/jpeg', 0.85);
      });
    }).catch(function () {
      return { blob: file, name: file.name };  // not decodable here: the server will say what is wrong
    });
  }

  function summarise(form, submitter) {
    var parts = [form.getAttribute('data-offline') || ''];
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === 'hidden' || input.type === 'file' || input.type === 'submit' || !input.value) return;
      if (input.tagName === 'SELECT') parts.push(input.options[input.selectedIndex].text);
      else parts.push(input.value.slice(0, 40));
    });
    if (submitter && submitter.name && submitter.value && parts.length === 1) parts.push(submitter.value);
    return parts.filter(Boolean).join(' · ').slice(0, 160);
  }

  function record(form, submitter) {
    var fields = [], files = [], pending = [];
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    data.forEach(function (value, name) {
      if (name === 'csrf_token') return;
      if (value instanceof File) {
        if (value.size) pending.push(downscale(value).then(function (small) { files.push([name, small.blob, small.name]); }));
      } else {
        fields.push([name, value]);
      }
    });
    var byLink = form.getAttribute('data-offline-auth') === 'link';
    return Promise.all([byLink ? null : currentActor(), Promise.all(pending)]).then(function (got) {
      var actor = got[0] || { id: null, name: form.getAttribute('data-offline-who') || '' };
      if (!byLink && !actor) throw new Error('nobody is logged in');
      return Outbox.add({
        auth: byLink ? 'link' : 'device',
        url: form.action, fields: fields, files: files, actor: { id: actor.id, name: actor.name },
        recordedAt: new Date().toISOString(), page: location.pathname, object: form.getAttribute('data-offline-object') || location.pathname,
        summary: summarise(form, submitter)
      });
    });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.hasAttribute('data-offline-switch')) return offlineSwitch(event);
    if (!form.hasAttribute('data-offline') && (form.getAttribute('method') || '').toLowerCase() === 'post' &&
        !navigator.onLine) {
      // Only the forms marked offline-capable can wait in the outbox; the others would end in the
      // browser's error page.
      event.preventDefault();
      var main = document.getElementById('main');
      var note = document.getElementById('needs-signal') || main.insertBefore(el('p', 'flash error'), main.firstChild);
      note.id = 'needs-signal';
      note.setAttribute('role', 'alert');
      note.textContent = t.needsSignal;
      note.scrollIntoView({ block: 'nearest' });
      return;
    }
    if (form.matches('form[action$="/logout"], form[action$="/logout-everywhere"]')) forgetPages();
    if (!form.hasAttribute('data-offline')) return;
    event.preventDefault();
    var button = event.submitter;
    if (button) button.disabled = true;
    record(form, button).then(function () {
      form.reset();
      var done = doneTemplate;
      if (done) {
        // A one-time form (the receipt): say it is kept, instead of showing it empty again.
        var main = document.getElementById('main');
        main.replaceChildren(done.content.cloneNode(true));
        main.querySelector('[data-done-message]').textContent = t.keptOnPhone;
      }
      var details = form.closest('details');
      if (details) details.open = false;
      if (button) button.disabled = false;
      requestBackgroundSync();
      return refresh().then(function () { return drain(false); });
    }, function () {
      if (button) button.disabled = false;
      if (navigator.onLine && !isOfflineCopy()) {
        // The outbox cannot be written (storage blocked): a plain post still works with signal.
        form.removeAttribute('data-offline');
        form.submit();
        return;
      }
      // Without signal a plain post would end in the browser's error page and lose what was typed.
      var note = form.querySelector('.outbox-error') || form.appendChild(el('p', 'error outbox-error'));
      note.setAttribute('role', 'alert');
      note.textContent = t.storageFailed;
    });
  }, true);

  /* For islands that post by themselves (the packing scanner): put one action in the outbox. */
  window.OutboxPage = {
    /* Record first, then send at once and resolve with the server's answer ({outcome, status, body});
       an answer the person sees right away is not kept as "needs attention". */
    recordAndSend: function (url, fields, summary, object) {
      return window.OutboxPage.record(url, fields, summary, object, true).then(function (entry) {
        return ensureDevice().then(function () { return Outbox.sendOne(entry.id); }).then(function (answer) {
          if (answer.outcome !== 'stuck') return answer;
          return Outbox.remove(entry.id).then(function () { return answer; });
        });
      }).then(function (answer) { refresh(); return answer; });
    },
    record: function (url, fields, summary, object, quiet) {
      return currentActor().then(function (actor) {
        return Outbox.add({
          quiet: !!quiet,
          auth: 'device', url: new URL(url, location.href).href, fields: fields, files: [],
          actor: { id: actor.id, name: actor.name }, recordedAt: new Date().toISOString(),
          page: location.pathname, object: object || location.pathname, summary: summary
        });
      }).then(function (entry) {
        requestBackgroundSync();
        refresh();
        return entry;
      });
    }
  };

  /* --- sending ------------------------------------------------------------------------------- */

  var draining = null, again = false, retryTimer = null;
  function drain(force) {
    if (draining) { again = true; return draining; }
    clearTimeout(retryTimer);
    draining = ensureDevice().then(function () { return Outbox.drain(force); })
      .catch(function () { return { sent: 0 }; })
      .then(function (result) {
        draining = null;
        if (again) { again = false; return drain(true); }  // something was recorded meanwhile
        if (result && result.waiting && result.nextTry) {
          // Try again by itself (no background sync on iOS; no `online` event when a server was down).
          retryTimer = setTimeout(function () { drain(false); }, Math.max(1000, result.nextTry - Date.now()));
        }
        return refresh().then(function () { return result; });
      });
    return draining;
  }

  function requestBackgroundSync() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register('outbox');
    }).catch(function () {});
  }

  var reloadTimer = null;
  Outbox.onChange(function (message) {
      var detail = message && message.detail;
      refresh();
      if (detail && detail.sent && detail.page === location.pathname) {
        var done = doneTemplate;
        if (done) {
          // A one-time page (a signed receipt's link is used up): show the answer instead of reloading.
          var main = document.getElementById('main');
          main.replaceChildren(done.content.cloneNode(true));
          main.querySelector('[data-done-message]').textContent = detail.message;
          if (detail.download && /^\/[^\/]/.test(detail.download)) {
            // The answer names the signed copy to download (a customer's receipt): offer it here.
            var link = el('a', 'button', done.getAttribute('data-download-label') || detail.download);
            link.href = detail.download;
            link.setAttribute('download', '');
            main.appendChild(el('p', 'actions')).appendChild(link);
          }
          return;
        }
        if (detail.message) sessionStorage.setItem('outbox-flash', detail.message);
        // Show the server's fresh page once the queue for it is sent (unless someone is typing).
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(function () {
          var active = document.activeElement;
          if (!active || !/^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) location.reload();
        }, 400);
      }
  });

  /* --- what the page shows ------------------------------------------------------------------- */

  function statusText(entry) {
    if (entry.status === 'waiting') return entry.attempts ? t.retrying : t.waiting;
    if (entry.status === 'conflict') return t.conflict;
    if (entry.status === 'refused') return t.refused;
    return t.attention;
  }

  function entryNode(entry, withActions) {
    var item = el('li', 'outbox-entry s-' + entry.status);
    var head = el('div', 'item');
    head.appendChild(el('span', 'title', entry.summary || entry.url));
    head.appendChild(el('span', 'sub', statusText(entry) + ' · ' + entry.actor.name + ' · ' + time(entry.recordedAt) +
      (entry.files && entry.files.length ? ' · ' + fill(t.photos, { n: entry.files.length }) : '')));
    if (entry.message && entry.status !== 'waiting') head.appendChild(el('span', 'error', entry.message));
    if (entry.errors && entry.status !== 'waiting') {
      Object.keys(entry.errors).forEach(function (name) {
        var value = (entry.fields || []).filter(function (pair) { return pair[0] === name; }).map(function (pair) { return pair[1]; });
        head.appendChild(el('span', 'error', (value.length ? '“' + value.join(', ') + '”: ' : '') + entry.errors[name].join(' ')));
      });
    }
    if (withActions && entry.status !== 'waiting') head.appendChild(el('span', 'help', t['help_' + entry.status] || t.help_attention));
    item.appendChild(head);
    if (withActions && entry.status !== 'waiting') {
      var actions = el('div', 'actions');
      var retry = el('button', 'secondary', t.retry);
      retry.type = 'button';
      retry.addEventListener('click', function () {
        var old = entry.id;
        if (entry.status === 'conflict') entry.id = crypto.randomUUID();  // nothing was applied: a new action
        entry.status = 'waiting'; entry.nextTry = 0; entry.attempts = 0; entry.message = ''; entry.errors = null;
        Outbox.put(entry).then(function () { return old !== entry.id ? Outbox.remove(old) : null; })
          .then(function () { drain(true); });
      });
      var discard = el('button', 'danger', t.discard);
      discard.type = 'button';
      discard.addEventListener('click', function () {
        if (window.confirm(t.discardConfirm)) Outbox.remove(entry.id).then(refresh);
      });
      actions.appendChild(retry);
      actions.appendChild(discard);
      item.appendChild(actions);
    }
    return item;
  }

  function refresh() {
    return Promise.all([Outbox.entries(), Outbox.getMeta('revoked')]).then(function (got) {
      var list = got[0], c = Outbox.counts(list);
      var badge = document.getElementById('outbox-badge');
      if (badge) {
        badge.hidden = c.total === 0;
        badge.classList.toggle('bad', c.conflict + c.attention > 0);
        badge.querySelector('.count').textContent = String(c.total);
        badge.setAttribute('aria-label', fill(t.badge, { n: c.total }));
        badge.setAttribute('data-waiting', c.waiting);
        badge.setAttribute('data-stuck', c.conflict + c.attention);
      }
      var here = document.getElementById('outbox-here');
      if (here) {
        var mine = list.filter(function (e) { return e.page === location.pathname; });
        here.replaceChildren();
        here.hidden = mine.length === 0;
        if (mine.length) {
          here.appendChild(el('h2', '', t.here));
          var ul = el('ul', 'list');
          mine.forEach(function (e) { ul.appendChild(entryNode(e, false)); });
          here.appendChild(ul);
          var send = el('button', 'secondary', t.sendNow);
          send.type = 'button';
          send.addEventListener('click', function () { drain(true); });
          here.appendChild(send);
        }
      }
      var page = document.getElementById('outbox-list');
      if (page) {
        page.replaceChildren();
        list.forEach(function (e) { page.appendChild(entryNode(e, true)); });
        document.getElementById('outbox-empty').hidden = list.length > 0;
        var revoked = document.getElementById('outbox-revoked');
        if (revoked) revoked.hidden = !got[1];
      }
    });
  }

  function showFlash() {
    var message = sessionStorage.getItem('outbox-flash');
    if (!message) return;
    sessionStorage.removeItem('outbox-flash');
    var main = document.getElementById('main');
    var note = el('p', 'flash', message);
    note.setAttribute('role', 'status');
    main.insertBefore(note, main.firstChild);
  }

  function showOfflineCopy() {
    var banner = document.getElementById('offline-copy');
    if (banner && document.documentElement.hasAttribute('data-offline-copy')) {
      banner.textContent = fill(t.offlineCopy, { time: time(config.renderedAt) });
      banner.hidden = false;
    }
  }

  /* --- the worker switch without signal -------------------------------------------------------- */

  function digest(pin, salt) {
    var encoder = new TextEncoder();
    return crypto.subtle.importKey('raw', encoder.encode(pin), 'PBKDF2', false, ['deriveBits'])
      .then(function (key) {
        return crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(salt),
                                          iterations: PIN_ROUNDS }, key, 256);
      }).then(function (bits) {
        return Array.prototype.map.call(new Uint8Array(bits), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
      });
  }

  /* An online switch with a PIN leaves a verifier, so that the same person can switch in offline. */
  function capturePin(form) {
    var number = form.querySelector('[name="employee_no"]'), pin = form.querySelector('[name="pin"]');
    if (!number || !pin || !number.value || !pin.value || !crypto.subtle) return Promise.resolve();
    var salt = crypto.randomUUID();
    var employee = number.value.trim().toLowerCase();
    return digest(pin.value, salt).then(function (hash) {
      sessionStorage.setItem('outbox-pin', JSON.stringify({ employee: employee, salt: salt, hash: hash }));
    });
  }

  function keepPinVerifier() {
    var pending = sessionStorage.getItem('outbox-pin');
    if (!pending || !config.user || isOfflineCopy()) return Promise.resolve();
    sessionStorage.removeItem('outbox-pin');
    if (!config.justSwitched) return Promise.resolve();  // the server refused that PIN: keep nothing
    var verifier = JSON.parse(pending);
    if (verifier.employee !== (config.user.employeeNo || '').toLowerCase()) return Promise.resolve();
    return Outbox.getMeta('pins').then(function (pins) {
      pins = pins || {};
      pins[verifier.employee] = { id: config.user.id, name: config.user.name, salt: verifier.salt, hash: verifier.hash };
      return Outbox.setMeta('pins', pins);
    });
  }

  function offlineSwitch(event) {
    var form = event.target;
    event.preventDefault();
    if (navigator.onLine && !isOfflineCopy()) {
      // Online the server checks the PIN; keep a verifier first (the page is left on submit).
      var post = function () { form.submit(); };
      (form.hasAttribute('data-pin-capture') ? capturePin(form) : Promise.resolve()).then(post, post);
      return;
    }
    var number = form.querySelector('[name="employee_no"]').value.trim().toLowerCase();
    var pin = form.querySelector('[name="pin"]').value;
    var message = document.getElementById('switch-offline-message') || form.appendChild(el('p', 'error'));
    message.id = 'switch-offline-message';
    message.setAttribute('role', 'alert');
    Promise.all([Outbox.getMeta('pins'), Outbox.getMeta('pinFailures')]).then(function (got) {
      var known = (got[0] || {})[number], failures = got[1] || { count: 0, at: 0 };
      if (failures.count >= 5 && Date.now() - failures.at < 15 * 60 * 1000) {
        message.className = 'error'; message.textContent = t.switchLocked; return;
      }
      if (!known) { message.className = 'error'; message.textContent = t.switchUnknown; return; }
      return digest(pin, known.salt).then(function (hash) {
        if (hash !== known.hash) {
          message.className = 'error'; message.textContent = t.switchWrong;
          return Outbox.setMeta('pinFailures', { count: failures.count + 1, at: Date.now() });
        }
        Outbox.setMeta('pinFailures', { count: 0, at: 0 });
        return Outbox.setMeta('actor', { id: known.id, name: known.name, offline: true }).then(function () {
          message.className = 'flash';
          message.textContent = fill(t.switchDone, { name: known.name });
          showActor(known);
          form.reset();
        });
      });
    });
  }

  /* --- start ----------------------------------------------------------------------------------- */

  function forgetPages() {
    // Logging out keeps the outbox (its actions are sent under the device credential) but drops
    // the kept pages, which show the logged-in person's work.
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: 'forget-pages' });
    }
    Outbox.setMeta('pagesAt', 0);
  }

  /* Pages kept for offline use show one person's work: a different person (or nobody) on a live page
     drops them before anything else can show them. */
  function pagesFollowUser() {
    if (isOfflineCopy()) return Promise.resolve(false);
    var now = config.user ? config.user.id : null;
    return Outbox.getMeta('pagesUser').then(function (before) {
      if ((before === undefined && !now) || before === now) return false;
      // A new person: the refresh below starts from an empty store; nobody: drop the pages now.
      if (!now && before !== undefined && before !== null) forgetPages();
      return Outbox.setMeta('pagesUser', now).then(function () { return !!now; });
    });
  }

  function refreshPages(force) {
    if (!config.user || isOfflineCopy() || !navigator.onLine || !('serviceWorker' in navigator)) return;
    Outbox.getMeta('pagesAt').then(function (at) {
      if (!force && at && Date.now() - at < REFRESH_EVERY_MS) return;
      return navigator.serviceWorker.ready.then(function (registration) {
        registration.active.postMessage({ type: 'refresh-pages', forget: !!force });
        return Outbox.setMeta('pagesAt', Date.now());
      });
    });
  }

  /* Pages this page says will be needed next (the receipt a courier may have signed without signal). */
  function keepLinkedPages() {
    var urls = Array.prototype.map.call(document.querySelectorAll('a[data-offline-keep]'), function (a) { return a.href; });
    if (!urls.length || isOfflineCopy() || !('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      registration.active.postMessage({ type: 'keep', urls: urls });
    });
  }

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(config.swUrl, { scope: '/' }).catch(function () {});
    navigator.serviceWorker.ready.then(function (registration) {
      if (!navigator.serviceWorker.controller && registration.active) registration.active.postMessage({ type: 'claim' });
    });
    keepLinkedPages();
    navigator.serviceWorker.addEventListener('message', function (event) {
      if (event.data && event.data.type === 'pages-refreshed') document.documentElement.setAttribute('data-pages-kept', event.data.count);
      if (event.data && event.data.type === 'kept') document.documentElement.setAttribute('data-linked-kept', '1');
    });
  }
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (yes) { if (!yes) navigator.storage.persist(); }).catch(function () {});
  }

  showOfflineCopy();
  showFlash();
  keepPinVerifier()
    .then(currentActor).then(showActor)
    .then(pagesFollowUser)
    .then(function (newPerson) {
      return drain(false).then(function (result) { refreshPages(newPerson || (result && result.sent > 0)); });
    });
  window.addEventListener('online', function () { drain(true); });
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') drain(false); });
  var sendNow = document.getElementById('outbox-send');
  if (sendNow) sendNow.addEventListener('click', function () { drain(true); });
})();
