// Unit tests of the outbox store's logic (static/js/outbox-store.js) with Node's built-in test runner,
// over an in-memory storage and a fake fetch: ordering, what each server answer does to an entry, the
// credential headers, and that an entry recorded by an earlier version still replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadStore } from './load-store.mjs';
import { memoryStorage } from './memory-storage.mjs';

const OutboxStore = loadStore();
const DEVICE = { id: 7, secret: 's3cret' };
const NOW = 1_800_000_000_000;

function json(status, body, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

/* An outbox over a fresh memory storage; `answer(request)` decides each fetch's outcome. */
function makeOutbox(answer, extra = {}) {
  const storage = memoryStorage();
  const requests = [];
  const posted = [];
  let sequence = 0;
  const outbox = OutboxStore.create(storage, {
    fetch: async (url, init) => {
      const request = { url, init, headers: init.headers, body: init.body };
      requests.push(request);
      return answer(request);
    },
    channel: { postMessage: (message) => posted.push(message) },
    locks: null,
    now: () => NOW,
    seq: () => ++sequence,
    random: () => 0.5,
    uuid: () => `id-${sequence + 1}`,
    ...extra,
  });
  return { outbox, storage, requests, posted };
}

function action(overrides = {}) {
  return {
    auth: 'device', url: 'http://127.0.0.1/w/tok/report', fields: [['p-good', '2'], ['p-scrap', '0']], files: [],
    actor: { id: 3, name: 'Li Wei' }, recordedAt: '2026-11-28T08:00:00.000Z', page: '/w/tok', object: '/w/tok',
    summary: 'Progress · 2', ...overrides,
  };
}

const sent = () => json(201, { message: 'Recorded.' });

test('add records an action as waiting, and entries come oldest first', async () => {
  const { outbox } = makeOutbox(sent);
  const first = await outbox.add(action());
  await outbox.add(action({ id: 'kept-id' }));
  assert.equal(first.id, 'id-1');
  assert.deepEqual([first.status, first.attempts, first.nextTry, first.seq], ['waiting', 0, 0, 1]);
  const list = await outbox.entries();
  assert.deepEqual(list.map((e) => e.id), ['id-1', 'kept-id']);
  assert.deepEqual(outbox.counts(list), { waiting: 2, attention: 0, conflict: 0, total: 2 });
});

test('a sent action leaves the outbox, with the device credential and no cookie', async () => {
  const { outbox, requests, posted, storage } = makeOutbox(sent);
  await outbox.setMeta('device', DEVICE);
  const photo = new Blob(['jpeg bytes'], { type: 'image/jpeg' });
  const entry = await outbox.add(action({ files: [['photo', photo, 'photo.jpg']] }));
  const result = await outbox.drain(false);
  assert.deepEqual(result, { sent: 1, left: 0, waiting: 0, offline: false, nextTry: 0 });
  assert.equal(requests.length, 1);
  const { init, headers, body } = requests[0];
  assert.deepEqual([init.method, init.credentials, init.redirect, init.cache], ['POST', 'omit', 'manual', 'no-store']);
  assert.deepEqual(headers, {
    'Idempotency-Key': entry.id, 'X-Recorded-At': entry.recordedAt, 'Accept': 'application/json', 'X-Attempt': '1',
    'Authorization': 'Device 7.s3cret', 'X-Actor': '3',
  });
  assert.deepEqual(body.getAll('p-good'), ['2']);
  assert.equal(body.get('photo').name, 'photo.jpg');
  assert.equal(await body.get('photo').text(), 'jpeg bytes');
  assert.equal(storage.stores.entries.size, 0);
  assert.deepEqual(posted.at(-1), { type: 'changed', detail: { sent: entry.id, page: '/w/tok', message: 'Recorded.', download: '' } });
});

test('a quiet action (the packing scanner) does not ask its page to reload', async () => {
  const { outbox, posted } = makeOutbox(() => json(200, { message: 'Ticked', download: '/c/x.pdf' }));
  await outbox.setMeta('device', DEVICE);
  const entry = await outbox.add(action({ quiet: true }));
  await outbox.drain(false);
  assert.deepEqual(posted.at(-1).detail, { sent: entry.id, page: null, message: 'Ticked', download: '/c/x.pdf' });
});

test('without a device only link actions are sent, with the link as credential', async () => {
  const { outbox, requests } = makeOutbox(sent);
  await outbox.add(action());
  const signed = await outbox.add(action({ auth: 'link', actor: { id: null, name: 'Customer' }, object: 'shipment-1' }));
  const result = await outbox.drain(true);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].headers.Authorization, 'Link');
  assert.equal('X-Actor' in requests[0].headers, false);
  assert.equal(requests[0].headers['Idempotency-Key'], signed.id);
  assert.deepEqual([result.sent, result.left, result.waiting], [1, 1, 1]);
});

test('server trouble keeps the action for a later try and holds that object\'s later actions only', async () => {
  const { outbox, requests } = makeOutbox((request) => (request.url.includes('/a/')
    ? new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/html' } })
    : sent()));
  await outbox.setMeta('device', DEVICE);
  const failing = await outbox.add(action({ url: 'http://127.0.0.1/a/1', object: 'a' }));
  await outbox.add(action({ url: 'http://127.0.0.1/a/2', object: 'a' }));
  await outbox.add(action({ url: 'http://127.0.0.1/b/1', object: 'b' }));
  const result = await outbox.drain(false);
  assert.deepEqual(requests.map((r) => r.url), ['http://127.0.0.1/a/1', 'http://127.0.0.1/b/1']);
  const [kept, held] = await outbox.entries();
  assert.equal(kept.id, failing.id);
  assert.deepEqual([kept.status, kept.attempts, kept.message], ['waiting', 1, '502 Bad Gateway']);
  assert.equal(kept.nextTry, NOW + 1500);  // 2 s base, jitter 0.5 → three quarters
  assert.equal(held.attempts, 0);
  assert.deepEqual(result, { sent: 1, left: 2, waiting: 2, offline: false, nextTry: NOW + 1500 });
});

test('a page that is not our JSON answer, or a redirect, is tried again, not taken for success', async () => {
  for (const response of [
    new Response('<form>login</form>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
    { ok: false, status: 0, statusText: '', type: 'opaqueredirect', headers: new Headers() },
    json(429, { title: 'Too many' }),
  ]) {
    const { outbox } = makeOutbox(() => response);
    await outbox.setMeta('device', DEVICE);
    await outbox.add(action());
    const result = await outbox.drain(false);
    const [entry] = await outbox.entries();
    assert.deepEqual([result.sent, result.waiting, entry.status, entry.attempts], [0, 1, 'waiting', 1]);
  }
});

test('no network stops the drain: nothing after it is tried', async () => {
  const { outbox, requests } = makeOutbox(() => { throw new TypeError('Failed to fetch'); });
  await outbox.setMeta('device', DEVICE);
  await outbox.add(action({ object: 'a' }));
  await outbox.add(action({ object: 'b' }));
  const result = await outbox.drain(false);
  assert.equal(requests.length, 1);
  assert.deepEqual(result, { sent: 0, left: 2, waiting: 2, offline: true, nextTry: NOW + 1500 });
  const [first] = await outbox.entries();
  assert.deepEqual([first.attempts, first.message], [1, '']);
});

test('an answer that never comes is cut after the timeout and counts as offline', async () => {
  const { outbox } = makeOutbox((request) => new Promise((resolve, reject) => {
    request.init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  }), { sendTimeoutMs: 20 });
  await outbox.setMeta('device', DEVICE);
  await outbox.add(action());
  const result = await outbox.drain(false);
  assert.equal(result.offline, true);
});

test('a conflict needs a person but does not hold the object\'s later actions', async () => {
  let calls = 0;
  const { outbox } = makeOutbox(() => (++calls === 1
    ? json(409, { title: 'Conflict', detail: 'The work order is closed.', reason: 'state' }, 'application/problem+json')
    : sent()));
  await outbox.setMeta('device', DEVICE);
  const stuck = await outbox.add(action());
  await outbox.add(action());
  const result = await outbox.drain(false);
  assert.deepEqual([result.sent, result.left, result.waiting], [1, 1, 0]);
  const [entry] = await outbox.entries();
  assert.equal(entry.id, stuck.id);
  assert.deepEqual([entry.status, entry.code, entry.reason, entry.message, entry.errors],
                   ['conflict', 409, 'state', 'The work order is closed.', null]);
  assert.deepEqual(outbox.counts([entry]), { waiting: 0, attention: 0, conflict: 1, total: 1 });
});

test('refused as unknown (401): the device is forgotten, to enrol afresh', async () => {
  const { outbox } = makeOutbox(() => json(401, { title: 'Unknown device' }));
  await outbox.setMeta('device', DEVICE);
  await outbox.setMeta('members', [{ id: 3 }]);
  await outbox.add(action());
  await outbox.drain(false);
  const [entry] = await outbox.entries();
  assert.deepEqual([entry.status, entry.message], ['refused', 'Unknown device']);
  assert.equal(await outbox.getMeta('device'), null);
  assert.deepEqual(await outbox.getMeta('members'), []);
});

test('an actor not enrolled on this phone (403): members are re-read, the device kept', async () => {
  const { outbox } = makeOutbox(() => json(403, { detail: 'Not enrolled', reason: 'actor_not_enrolled' }));
  await outbox.setMeta('device', DEVICE);
  await outbox.setMeta('members', [{ id: 3 }]);
  await outbox.add(action());
  await outbox.drain(false);
  const [entry] = await outbox.entries();
  assert.deepEqual([entry.status, entry.reason], ['refused', 'actor_not_enrolled']);
  assert.deepEqual(await outbox.getMeta('device'), DEVICE);
  assert.deepEqual(await outbox.getMeta('members'), []);
});

test('bad input (422) keeps the field errors for the outbox page', async () => {
  const { outbox } = makeOutbox(() => json(422, { message: 'Check the form', errors: { 'p-good': ['Not a number.'] } }));
  await outbox.setMeta('device', DEVICE);
  await outbox.add(action());
  await outbox.drain(false);
  const [entry] = await outbox.entries();
  assert.deepEqual([entry.status, entry.code, entry.message, entry.errors],
                   ['attention', 422, 'Check the form', { 'p-good': ['Not a number.'] }]);
  assert.deepEqual(outbox.counts([entry]), { waiting: 0, attention: 1, conflict: 0, total: 1 });
});

test('an action not yet due waits unless the drain is forced', async () => {
  const { outbox, requests } = makeOutbox(sent);
  await outbox.setMeta('device', DEVICE);
  const entry = await outbox.add(action());
  entry.nextTry = NOW + 60000;
  entry.attempts = 2;
  await outbox.put(entry);
  assert.deepEqual(await outbox.drain(false), { sent: 0, left: 1, waiting: 1, offline: false, nextTry: NOW + 60000 });
  assert.equal(requests.length, 0);
  assert.equal((await outbox.drain(true)).sent, 1);
  assert.equal(requests[0].headers['X-Attempt'], '3');
});

test('the wait doubles from 2 s to at most 5 min, jittered between half and full', () => {
  assert.equal(OutboxStore.backoff(1, () => 0), 1000);
  assert.equal(OutboxStore.backoff(1, () => 1), 2000);
  assert.equal(OutboxStore.backoff(3, () => 1), 8000);
  assert.equal(OutboxStore.backoff(20, () => 1), 300000);
  assert.equal(OutboxStore.backoff(20, () => 0), 150000);
});

test('drain and sendOne take the one lock shared with the other pages and the worker', async () => {
  const taken = [];
  const locks = { request: async (name, work) => { taken.push(name); return work(); } };
  const { outbox } = makeOutbox(sent, { locks });
  await outbox.setMeta('device', DEVICE);
  const entry = await outbox.add(action());
  assert.equal((await outbox.sendOne(entry.id)).outcome, 'sent');
  await outbox.drain(false);
  assert.deepEqual(taken, ['tracker-outbox-drain', 'tracker-outbox-drain']);
});

test('sendOne: gone means a drain sent it; without a device it waits', async () => {
  const { outbox, requests } = makeOutbox(sent);
  assert.deepEqual(await outbox.sendOne('missing'), { outcome: 'sent', status: 200, body: {} });
  const entry = await outbox.add(action());
  assert.deepEqual(await outbox.sendOne(entry.id), { outcome: 'retry', status: 0, body: {} });
  assert.equal(requests.length, 0);
});

test('changes reach this context\'s listeners and the other pages', async () => {
  const { outbox, posted } = makeOutbox(sent);
  const heard = [];
  outbox.onChange((message) => heard.push(message));
  const entry = await outbox.add(action());
  await outbox.remove(entry.id);
  assert.deepEqual(heard, [{ type: 'changed', detail: null }, { type: 'changed', detail: null }]);
  assert.deepEqual(posted, heard);
});

test('messages from other pages reach the listeners', async () => {
  const channel = { postMessage() {}, onmessage: null };
  const { outbox } = makeOutbox(sent, { channel });
  const heard = [];
  outbox.onChange((message) => heard.push(message));
  channel.onmessage({ data: { type: 'changed', detail: { sent: 'x' } } });
  assert.deepEqual(heard, [{ type: 'changed', detail: { sent: 'x' } }]);
});

test('an entry recorded by an earlier version, still on a phone, replays the same request', async () => {
  // Stored by the outbox before issue 10 (its fields as written then); keep this fixture unchanged.
  const recorded = {
    id: '5b0c8f0e-3c1a-4f7e-9a51-0c9d2f1e6a77', seq: 1764316800123.4567, status: 'waiting', attempts: 1,
    nextTry: 0, message: '', auth: 'device', url: 'https://tracker.example/w/Qx7d/report',
    fields: [['p-good', '5'], ['p-scrap', '1'], ['note', '夜班']], files: [],
    actor: { id: 12, name: '王芳' }, recordedAt: '2026-11-28T06:40:00.000Z', page: '/w/Qx7d',
    object: '/w/Qx7d', summary: '进度 · 5 · 1 · 夜班',
  };
  const { outbox, storage, requests, posted } = makeOutbox(sent);
  await storage.put('meta', DEVICE, 'device');
  await storage.put('entries', recorded);
  assert.equal((await outbox.drain(false)).sent, 1);
  const { url, headers, body } = requests[0];
  assert.equal(url, recorded.url);
  assert.deepEqual(headers, {
    'Idempotency-Key': recorded.id, 'X-Recorded-At': recorded.recordedAt, 'Accept': 'application/json',
    'X-Attempt': '2', 'Authorization': 'Device 7.s3cret', 'X-Actor': '12',
  });
  assert.deepEqual([...body.entries()], recorded.fields);
  assert.equal(posted.at(-1).detail.page, '/w/Qx7d');
});
