"""Offline in a real Chromium at phone width (DESIGN.md §5.7): the service worker keeps assigned pages,
the outbox keeps what two workers record on one shared phone without signal, and the server gets each
action exactly once, under the right person, when the signal returns. Replays after the session
expired, a revoked phone, logout with unsent actions, conflicts and installability.

What reached the server is counted in the database, never from the page's memory.
"""
import contextlib
import time
from datetime import timedelta

import time_machine
from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError, expect

from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.photos import Photo
from webapp.production import services as production
from webapp.production.models import Anomaly, ProgressReport, WorkOrder
from webapp.sync.models import SyncConflict, SyncDevice

from .conftest import TABLET
from .test_field_browser import assert_fits
from .test_order_desk_browser import log_in, settle

# How often the waits below look again: a look costs a few milliseconds, and every look skipped is
# time the test stands still after the thing it waits for has happened.
POLL = 0.05
CONTROLLED = "!!(navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated')"


def poll(page, expression: str, timeout: float = 15.0, arg=None):
    """Evaluate expression (it may return a Promise) until it is truthy. wait_for_function would eval a
    string inside the page, which the CSP forbids; evaluate goes through the DevTools protocol."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(expression, arg)
        except PlaywrightError as error:
            if "Execution context was destroyed" not in str(error):
                raise
            value = None  # the page navigated (a reload as the worker takes over): ask the new one
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        time.sleep(POLL)


def wait_db(app, query, expected, timeout: float = 20.0):
    """Poll the database until query() returns expected."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            value = query()
        if value == expected:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"database holds {value!r}, expected {expected!r}")
        time.sleep(POLL)


def offline_noise_only(problems, *statuses: str) -> None:
    """Drop the console's record of requests that failed because the test cut the network, and of the
    answers the test provokes (statuses like "409 (CONFLICT)"); keep everything else, CSP violations
    first of all."""
    expected = ("net::ERR_INTERNET_DISCONNECTED", "status of 503 (Offline)",
                *(f"status of {status}" for status in statuses))
    problems.items[:] = [item for item in problems.items if not any(e in item for e in expected)]


def ready_for_offline(page, user_id: int) -> None:
    """The service worker controls the page, the phone is enrolled for user_id, and the pages of the
    sync manifest are kept."""
    try:
        poll(page, CONTROLLED)
    except AssertionError:
        state = page.evaluate("""navigator.serviceWorker.getRegistration().then(r => r ? {installing: !!r.installing,
            waiting: !!r.waiting, active: r.active && r.active.state, url: location.href} : 'no registration')""")
        raise AssertionError(f"the service worker does not control {page.url}: {state}")
    # window.Outbox: the page may still be loading its deferred store script (a reload as the worker takes over).
    poll(page, "uid => window.Outbox && Outbox.getMeta('members').then(m => !!m && m.some(x => x.id === uid))",
         arg=user_id)
    poll(page, "document.documentElement.dataset.pagesKept !== undefined")


def outbox(page) -> list[dict]:
    """The phone's outbox entries (without their blobs). Asked again of the new page when the page
    navigates while asked (a reload once the queue was sent), as poll() does."""
    for attempt in range(5):
        try:
            return page.evaluate("""Outbox.entries().then(list => list.map(e => ({
                status: e.status, actor: e.actor.name, summary: e.summary, files: (e.files || []).length,
                message: e.message || ''})))""")
        except PlaywrightError as error:
            if "Execution context was destroyed" not in str(error) or attempt == 4:
                raise
            page.wait_for_load_state("load")


def switch_with_pin(page, base: str, employee_no: str, pin: str) -> None:
    """The worker switch page, by employee number and PIN."""
    page.goto(base + "/switch")
    page.get_by_label("Employee number").fill(employee_no)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Switch").click()


def count_posts(app):
    """Count the POSTs that reach the server from now on (a WSGI wrapper at the app's door)."""
    seen = {"n": 0}
    inner = app.wsgi_app

    def counting(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/report"):
            seen["n"] += 1
        return inner(environ, start_response)
    app.wsgi_app = counting
    return lambda: seen["n"]


def shared_phone(app, make_order, make_user):
    """An order in production whose work order belongs to Huang; Lin works on the same phone."""
    order_id = make_order("in_production")
    huang = make_user("worker", username="huang", name="Huang Worker", employee_no="W01", pin="1234")
    lin = make_user("worker", username="lin", name="Lin Worker", employee_no="W02", pin="2345")
    with app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        work_order.owner_id = huang
        db.session.commit()
        return huang, lin, work_order.id, work_order.token, work_order.number


def test_two_workers_record_offline_on_one_shared_phone(app, live_server, context, browser_problems, shoot,
                                                       tmp_path, make_order, make_user):
    """The issue's acceptance path: network cut, Huang reports progress with a photo on his assigned
    work order (a page he never opened, kept by the service worker), Lin switches in on the same phone
    and raises an anomaly; the badge counts both; back online the server has each once, under the
    right person, and the badge is gone."""
    base = live_server
    huang, lin, wo_id, token, number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    # Both have switched in on this phone with their PIN before (online): the phone may act for them.
    switch_with_pin(page, base, "W02", "2345")
    expect(page.locator(".top .who")).to_have_text("Lin Worker")
    ready_for_offline(page, lin)
    switch_with_pin(page, base, "W01", "1234")
    expect(page.locator(".top .who")).to_have_text("Huang Worker")
    ready_for_offline(page, huang)

    context.set_offline(True)
    response = page.goto(f"{base}/w/{token}")
    assert response.from_service_worker, "the assigned work order did not come from the service worker"
    expect(page.get_by_role("heading", name=number, level=1)).to_be_visible()
    expect(page.locator("#offline-copy")).to_contain_text("No signal: offline copy from")

    # Huang: 5 good, 1 scrap, a note and a photo.
    page.get_by_text("Report with scrap, note or photo").click()
    details = page.locator("details").filter(has=page.get_by_text("Report with scrap, note or photo"))
    details.get_by_label("Good pieces").fill("5")
    details.get_by_label("Scrap pieces").fill("1")
    details.get_by_label("Note").fill("Edge burr, one scrapped")
    # A camera-sized picture: the phone keeps it downscaled (long side ~1600 px, JPEG).
    big = tmp_path / "burr-big.png"
    camera = Image.new("RGB", (3200, 2400), (235, 235, 230))
    ImageDraw.Draw(camera).rectangle((600, 500, 2600, 1900), fill=(190, 40, 30), outline=(20, 20, 20), width=40)
    camera.save(big, "PNG")
    details.get_by_label("Photos").set_input_files(big)
    details.get_by_role("button", name="Save report").click()
    here = page.locator("#outbox-here")
    expect(here).to_contain_text("Recorded on this phone, not yet on the server")
    expect(here).to_contain_text("Huang Worker")
    expect(page.locator("#outbox-badge")).to_contain_text("1")

    # Lin takes the phone without signal: the PIN is checked on the phone.
    page.locator(".top .who").click()
    expect(page.locator("#offline-copy")).to_be_visible()
    page.get_by_label("Employee number").fill("W02")
    page.get_by_label("PIN").fill("9999")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#switch-offline-message")).to_have_text("Wrong employee number or PIN.")
    page.get_by_label("PIN").fill("2345")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#switch-offline-message")).to_contain_text("Lin Worker is now using this phone")
    page.goto(f"{base}/w/{token}")
    expect(page.locator(".top .who")).to_have_text("Lin Worker")
    page.get_by_text("Something is wrong: raise an anomaly").click()
    form = page.locator("form[action$='/anomaly']")
    form.get_by_label("What happened").select_option(index=1)
    form.get_by_label("Describe it").fill("Coolant pump leaking")
    form.get_by_role("button", name="Raise anomaly").click()
    badge = page.locator("#outbox-badge")
    expect(badge).to_contain_text("2")
    kept = page.evaluate("""Outbox.entries().then(l => createImageBitmap(l[0].files[0][1])
        .then(b => [b.width, b.height, l[0].files[0][1].type]))""")
    assert kept == [1600, 1200, "image/jpeg"], kept
    entries = outbox(page)
    assert [(e["actor"], e["status"], e["files"]) for e in entries] == [
        ("Huang Worker", "waiting", 1), ("Lin Worker", "waiting", 0)]
    assert_fits(page)
    shoot(page, "offline-01-two-workers-waiting")
    page.set_viewport_size(TABLET)
    settle(page)
    shoot(page, "offline-tablet-01-two-workers-waiting")
    page.set_viewport_size({"width": 390, "height": 844})
    with app.app_context():  # nothing has reached the server yet
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Anomaly)) == 0

    context.set_offline(False)  # fires `online`: the outbox drains
    wait_db(app, lambda: db.session.scalar(db.select(db.func.count()).select_from(Anomaly)), 1)
    expect(badge).to_be_hidden(timeout=15000)
    with app.app_context():
        reports = db.session.scalars(db.select(ProgressReport)).all()
        assert [(r.worker_id, str(r.good_qty.normalize()), str(r.scrap_qty.normalize()), r.note)
                for r in reports] == [(huang, "5", "1", "Edge burr, one scrapped")]
        photos = db.session.scalars(db.select(Photo).where(Photo.entity_type == "progress")).all()
        assert len(photos) == 1 and photos[0].entity_id == reports[0].id
        anomaly = db.session.scalars(db.select(Anomaly)).one()
        assert (anomaly.reported_by_id, anomaly.note) == (lin, "Coolant pump leaking")
    assert outbox(page) == []
    expect(page.locator("main")).to_contain_text("5 of 100 pcs good")
    # The server's session still has Huang: the page says so, and whose actions come next.
    expect(page.locator("main")).to_contain_text(
        "Lin Worker switched in without signal, but the server still has Huang Worker on this phone: "
        "what is recorded from now on is Huang Worker's.")
    shoot(page, "offline-02-sent")
    offline_noise_only(browser_problems)
    browser_problems.check(page)


def test_unvisited_page_and_htmx_offline(app, live_server, context, browser_problems, make_order, make_user):
    """Offline, a page never kept shows the offline page; an htmx request never receives it."""
    base = live_server
    huang, _lin, _wo, _token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    open_without_signal(page, context, f"{base}/account")
    expect(page.get_by_role("heading", name="No signal", level=1)).to_be_visible()
    answer = page.evaluate("""fetch('/production/', {headers: {'HX-Request': 'true'}})
        .then(r => r.text().then(t => [r.status, t]), e => [0, String(e)])""")
    assert answer[0] != 200 and "No signal" not in answer[1], answer
    # A button that cannot wait in the outbox says so instead of leading to the browser's error page.
    page.goto(f"{base}/w/{_token}")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#needs-signal")).to_contain_text("This needs signal.")
    assert page.url.endswith(f"/w/{_token}")
    offline_noise_only(browser_problems)
    browser_problems.check(page)


def worker_in(page, lang: str) -> None:
    """The page is controlled by the one service worker (/sw.js, no ?lang=), and the phone has recorded
    lang as its person's language for the worker."""
    poll(page, """lang => { const w = navigator.serviceWorker.controller;
        return !!w && w.state === 'activated' && new URL(w.scriptURL).pathname === '/sw.js' && !new URL(w.scriptURL).search
          && window.Outbox && Outbox.getMeta('lang').then(kept => kept === lang); }""", arg=lang)


def count_shell_page_fetches(app):
    """Count the fetches of the offline and outbox pages in a named language (/offline?lang=…) that
    reach the server from now on: only a service worker's install asks for them."""
    seen = {"n": 0}
    inner = app.wsgi_app

    def counting(environ, start_response):
        if environ["PATH_INFO"] in ("/offline", "/outbox") and "lang=" in environ.get("QUERY_STRING", ""):
            seen["n"] += 1
        return inner(environ, start_response)
    app.wsgi_app = counting
    return lambda: seen["n"]


def open_without_signal(page, context, url: str) -> None:
    """Go to url with the phone offline. Chromium's offline emulation can miss a service worker that
    was stopped and started again since it was set (its fetches then reach the server and a live page
    comes back): when no offline page came, set it again and go once more."""
    for _attempt in range(2):
        context.set_offline(True)
        page.goto(url)
        if page.locator("html[data-offline-page]").count():
            return
        context.set_offline(False)
    context.set_offline(True)


def shell_caches(page) -> list[str]:
    """The names of the service worker's versioned shell caches."""
    return page.evaluate("caches.keys().then(names => names.filter(n => n.startsWith('shell-')))")


def test_kept_offline_and_outbox_pages_follow_the_users_language(app, live_server, context, browser_problems,
                                                                  make_order, make_user):
    """An English browser, a worker who chose Chinese: the one service worker (no new one for a new
    language) shows the offline and outbox pages it keeps in Chinese; back to English, they follow."""
    base = live_server
    huang, _lin, _wo, _token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    worker_in(page, "en")
    shells = shell_caches(page)
    assert len(shells) == 1, shells
    installs = count_shell_page_fetches(app)
    page.locator("form.lang button").click()  # 中文
    expect(page.get_by_role("heading", name="我的待办", level=1)).to_be_visible()
    worker_in(page, "zh")
    open_without_signal(page, context, f"{base}/account")  # never kept: the offline page
    expect(page.get_by_role("heading", name="无信号", level=1)).to_be_visible()
    page.goto(f"{base}/outbox")
    expect(page.get_by_role("heading", name="待发送", level=1)).to_be_visible()
    context.set_offline(False)
    page.goto(f"{base}/")
    page.locator("form.lang button").click()  # English
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    worker_in(page, "en")
    open_without_signal(page, context, f"{base}/account")
    expect(page.get_by_role("heading", name="No signal", level=1)).to_be_visible()
    page.goto(f"{base}/outbox")
    expect(page.get_by_role("heading", name="Waiting to be sent", level=1)).to_be_visible()
    # The same worker all along: one registration, no new install (no shell page fetched again, the
    # same shell cache).
    registrations = page.evaluate(
        "navigator.serviceWorker.getRegistrations().then(rs => rs.map(r => r.active && r.active.scriptURL))")
    assert registrations == [f"{base}/sw.js"], registrations
    assert installs() == 0 and shell_caches(page) == shells
    offline_noise_only(browser_problems)
    browser_problems.check(page)


def test_replays_give_one_effect(app, live_server, context, browser_problems, make_order, make_user):
    """One entry replayed five times (the phone never heard the answer) gives one effect; five at once
    too; and the page and the service worker draining at the same moment send it once."""
    base = live_server
    huang, _lin, wo_id, token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    replay = """async ([url, key, parallel]) => {
        const d = await Outbox.getMeta('device');
        const send = () => { const f = new FormData(); f.append('p-good', '1'); f.append('p-scrap', '0');
          return fetch(url, {method: 'POST', body: f, credentials: 'omit', headers: {
            'Authorization': 'Device ' + d.id + '.' + d.secret, 'Idempotency-Key': key,
            'X-Actor': String(%d), 'X-Recorded-At': new Date().toISOString()}}).then(r => r.status); };
        if (parallel) return Promise.all([send(), send(), send(), send(), send()]);
        const out = []; for (let i = 0; i < 5; i++) out.push(await send()); return out; }""" % huang
    assert page.evaluate(replay, [f"/w/{token}/report", "k-serial-1", False]) == [201] * 5
    assert page.evaluate(replay, [f"/w/{token}/report", "k-parallel-1", True]) == [201] * 5
    count = lambda: db.session.scalar(db.select(db.func.count()).select_from(ProgressReport))  # noqa: E731
    with app.app_context():
        assert count() == 2

    # Page and service worker drain together: Web Locks let one of them send, and the other finds
    # nothing left. Counted at the server's door, so the server's idempotency cannot hide a double send.
    posts = count_posts(app)
    page.evaluate("""Outbox.add({url: location.origin + '/w/%s/report', fields: [['p-good', '2'], ['p-scrap', '0']],
        files: [], actor: {id: %d, name: 'Huang Worker'}, recordedAt: new Date().toISOString(),
        page: '/nowhere', object: 'wo', summary: '+2'})""" % (token, huang))
    page.evaluate("""() => { navigator.serviceWorker.controller.postMessage({type: 'drain'});
        return Promise.all([Outbox.drain(true), Outbox.drain(true)]); }""")
    wait_db(app, count, 3)
    time.sleep(1.0)
    with app.app_context():
        assert count() == 3
    assert posts() == 1, f"{posts()} sends of one entry"

    # The server applies an entry but the phone never hears the answer: the outbox keeps it, sends it
    # again by itself, gets the stored answer, and the work order counts it once.
    lost = {"n": 0}

    def lose_first_answer(route):
        if lost["n"] == 0:
            try:
                route.fetch()  # reaches the server, which applies it
            except PlaywrightError:
                # The sender gave up on this request first (a slow machine): it never reached the
                # server, so the next send is the one whose answer is lost.
                with contextlib.suppress(PlaywrightError):
                    route.abort("connectionreset")
                return
            lost["n"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()
    context.route("**/w/*/report", lose_first_answer)  # the page or the service worker may send it
    posts = count_posts(app)
    page.goto(f"{base}/w/{token}")
    page.get_by_role("button", name="+5 good").click()
    # poll() keeps calling into Playwright, which is when the route handler above gets to run. The
    # click writes the entry to IndexedDB asynchronously, so an empty outbox right after it proves
    # nothing: wait for the server's count as well.
    deadline = time.monotonic() + 30
    while True:
        poll(page, "Outbox.entries().then(l => l.length === 0)", timeout=30)
        with app.app_context():
            if count() == 4 or time.monotonic() > deadline:
                break
        page.wait_for_timeout(200)
    with app.app_context():
        assert count() == 4
    assert posts() == 2 and lost["n"] == 1
    assert outbox(page) == []
    offline_noise_only(browser_problems)
    browser_problems.check(page)


def test_replay_after_session_expired_and_logout_keeps_actions(app, live_server, context, browser_problems,
                                                               make_order, make_user):
    """Logging out with unsent actions loses none; they land through the device credential even after
    the session and its CSRF token expired."""
    base = live_server
    huang, _lin, wo_id, token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    context.set_offline(True)
    page.goto(f"{base}/w/{token}")
    page.get_by_role("button", name="+5 good").click()
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    # Signal returns, but the server is unreachable for a while (503), so the action stays waiting.
    context.route("**/w/*/report", lambda route: route.fulfill(status=503, body="busy"))
    context.set_offline(False)
    poll(page, "Outbox.entries().then(l => l.length === 1 && l[0].attempts > 0)")
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert [e["status"] for e in outbox(page)] == ["waiting"]
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0

    with time_machine.travel(utcnow() + timedelta(days=40), tick=True):
        context.unroute("**/w/*/report")
        page.goto(f"{base}/w/{token}")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the session is long gone
        page.goto(f"{base}/outbox")  # no tap on "Send now": the outbox tries again by itself
        wait_db(app, lambda: db.session.scalar(db.select(ProgressReport.worker_id)), huang, timeout=40)
    expect(page.locator("#outbox-empty")).to_be_visible()
    offline_noise_only(browser_problems, "503 (Service Unavailable)")
    browser_problems.check(page)


def test_revoked_phone_and_conflict_stay_visible(app, live_server, context, browser_problems, shoot,
                                                 make_order, make_user):
    """A conflicting replay becomes a visible conflict with its data; a revoked phone's replay is
    refused and stays on the phone."""
    base = live_server
    huang, _lin, wo_id, token, _number = shared_phone(app, make_order, make_user)
    supervisor = make_user("production", username="sup", name="Sue Supervisor")
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    context.set_offline(True)
    page.goto(f"{base}/w/{token}")
    page.get_by_role("button", name="+10 good").click()
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    with app.app_context():  # meanwhile the supervisor books everything and QC passes
        work_order = db.session.get(WorkOrder, wo_id)
        from webapp.auth.models import User
        sue = db.session.get(User, supervisor)
        production.report(work_order, sue, work_order.remaining, 0, "", [])
        production.move(work_order, "finish", sue)
        db.session.commit()
    context.set_offline(False)
    poll(page, "Outbox.entries().then(l => l.length === 1 && l[0].status === 'conflict')")
    page.goto(f"{base}/outbox")
    entry = page.locator("#outbox-list li")
    expect(entry).to_contain_text("Conflict: could not be applied")
    expect(entry).to_contain_text("+10 good")
    expect(entry).to_contain_text("Progress can be reported only while the work is in progress.")
    expect(page.locator("#outbox-badge")).to_have_class("outbox-badge bad")
    with app.app_context():
        conflict = db.session.scalars(db.select(SyncConflict)).one()
        assert '"p-good": ["10"]' in conflict.fields and conflict.actor_id == huang
    shoot(page, "offline-03-conflict")
    page.once("dialog", lambda dialog: dialog.accept())  # "Discard this action?"
    entry.get_by_role("button", name="Discard").click()
    expect(page.locator("#outbox-empty")).to_be_visible()

    # The phone is lost: an administrator locks it out. What it still sends is refused and kept.
    with app.app_context():
        device = db.session.scalars(db.select(SyncDevice)).one()
        device.revoked_at = utcnow()
        db.session.commit()
    context.set_offline(True)
    page.goto(f"{base}/w/{token}")
    page.get_by_text("Something is wrong: raise an anomaly").click()
    form = page.locator("form[action$='/anomaly']")
    form.get_by_label("Describe it").fill("Guard missing")
    form.get_by_role("button", name="Raise anomaly").click()
    context.set_offline(False)
    poll(page, "Outbox.entries().then(l => l.some(e => e.status === 'refused'))")
    page.goto(f"{base}/outbox")
    expect(page.locator("#outbox-list")).to_contain_text("Refused by the server")
    expect(page.locator("#outbox-list")).to_contain_text("Guard missing")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Anomaly)) == 0
    shoot(page, "offline-04-refused")
    offline_noise_only(browser_problems, "409 (CONFLICT)", "403 (FORBIDDEN)")
    browser_problems.check(page)


def test_installable_with_no_errors(app, live_server, browser_type, browser_type_launch_args, browser_problems,
                                   tmp_path):
    """The DevTools protocol finds no installability errors (Lighthouse 12 no longer audits it). A
    persistent profile: in an incognito-like context Chromium never offers installation."""
    context = browser_type.launch_persistent_context(str(tmp_path / "profile"), **browser_type_launch_args,
                                                     viewport={"width": 390, "height": 844})
    try:
        browser_problems.watch(context)
        # Note whether the page asks to keep its storage (the outbox must not be evicted).
        context.add_init_script("""(() => { const s = navigator.storage; if (!s) return; const ask = s.persist.bind(s);
            s.persist = () => { window.__persistAsked = true; return ask(); }; })();""")
        page = context.new_page()
        page.goto(live_server + "/login")
        poll(page, CONTROLLED)
        cdp = context.new_cdp_session(page)
        result = cdp.send("Page.getInstallabilityErrors")
        assert result["installabilityErrors"] == [], result
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest
        poll(page, "window.__persistAsked === true")
        browser_problems.check(page)
    finally:
        context.close()


def test_packing_scan_without_signal_ticks_off_when_back(app, live_server, context, browser_problems,
                                                        make_order, make_product, make_user):
    """The warehouse types (or scans) a product's barcode on the packing scanner with no signal: the
    scan waits in the outbox, and when the signal returns it counts its one piece, once — the line of
    one piece is ticked off."""
    from decimal import Decimal

    from webapp.orders.models import OrderLine
    from webapp.production.models import Product
    from webapp.shipping.models import Shipment, ShipmentLine
    ean = "4006381333931"
    product_id = make_product("BRK-1")
    wanda = make_user("warehouse", username="wanda", name="Wanda Warehouse")
    order_id = make_order("in_production")
    with app.app_context():
        db.session.get(Product, product_id).barcode = ean
        first = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id))
        shipment = Shipment(order_id=order_id, number="OFF-S1", created_by_id=first.order.sales_rep_id,
                            lines=[ShipmentLine(order_line_id=first.id, quantity=Decimal("1"))])
        db.session.add(shipment)
        db.session.commit()
        shipment_id = shipment.id
    page = context.new_page()
    log_in(page, live_server, "wanda")
    ready_for_offline(page, wanda)
    page.goto(f"{live_server}/scan?shipment={shipment_id}")
    expect(page.get_by_role("heading", name="Scan to pack OFF-S1", level=1)).to_be_visible()
    context.set_offline(True)
    page.get_by_label("Code or link").fill(ean)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#scan-results li").first).to_contain_text("is kept on this phone")
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    with app.app_context():
        assert db.session.scalar(db.select(ShipmentLine.checked_at)) is None
    context.set_offline(False)
    wait_db(app, lambda: db.session.scalar(db.select(ShipmentLine.checked_by_id)), wanda)
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=15000)
    from webapp.shipping.packing_models import PackScan
    with app.app_context():  # replayed once: one piece counted, not two
        assert db.session.scalar(db.select(db.func.count()).select_from(PackScan)) == 1
    offline_noise_only(browser_problems)
    browser_problems.check(page)


def test_receipt_signed_where_the_signal_dropped(app, live_server, context, browser_problems, shoot, tmp_path,
                                                 make_order, as_user):
    """The courier opened the shipment with signal; at the customer's door there is none. The customer
    signs on the courier's phone: the receipt is kept there and lands once when the signal returns."""
    from webapp.shipping.models import DeliveryReceipt, Shipment
    from ..test_sync import packed_shipment_with_courier_link
    from .test_order_desk_browser import draw_signature
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    page = context.new_page()
    page.goto(live_server + path)
    page.get_by_role("button", name="Confirm pickup and dispatch").click()
    sign_here = page.get_by_role("link", name="Customer signs on this phone")
    expect(sign_here).to_be_visible()
    poll(page, CONTROLLED)
    poll(page, "document.documentElement.dataset.linkedKept === '1'")  # the receipt page is kept

    context.set_offline(True)
    sign_here.click()
    expect(page.locator("#offline-copy")).to_be_visible()
    page.get_by_label("Your name").fill("Ann Buyer")
    draw_signature(page)
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.get_by_role("button", name="Sign for the delivery").click()
    expect(page.locator("main")).to_contain_text("Recorded on this phone.")
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    shoot(page, "offline-05-receipt-kept")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryReceipt)) == 0

    context.set_offline(False)
    wait_db(app, lambda: db.session.scalar(db.select(Shipment.status).where(Shipment.id == shipment_id)),
            "delivered")
    expect(page.locator("main")).to_contain_text("is recorded")
    with app.app_context():
        receipt = db.session.scalars(db.select(DeliveryReceipt)).one()
        assert receipt.signer_name == "Ann Buyer" and receipt.taken_on == "courier" and receipt.signature_svg
    offline_noise_only(browser_problems)
    browser_problems.check(page)
