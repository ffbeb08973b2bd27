"""Real-browser fixtures: Debian's Chromium through pytest-playwright, the app on a live
loopback server, phone-sized contexts, and a watch for CSP violations and console errors.

Every test in this folder is marked ``browser``. Without /usr/bin/chromium the tests skip,
unless REQUIRE_BROWSER=1 (CI sets it), in which case they fail.
"""
import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import WSGIRequestHandler, make_server

# The outbox fixture recorder is a tool, not a check: it is collected only when asked for, so that CI's
# rule "no browser test may skip" (REQUIRE_BROWSER) does not count it as a skipped test.
collect_ignore = [] if os.environ.get("RECORD_OUTBOX_FIXTURES") == "1" else ["test_record_outbox_fixtures_browser.py"]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
TABLET = {"width": 820, "height": 1180}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Runs in every page before the page's own scripts: records CSP violations on window and hands
# each one to the test at once (window is lost on the next navigation; the binding is not).
WATCH_CSP = """
(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    const v = {directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
               sample: e.sample, source: e.sourceFile, line: e.lineNumber, page: e.documentURI};
    window.__cspViolations.push(v);
    if (window.__reportCspViolation) { window.__reportCspViolation(v); }
  });
})();
"""


def pytest_collection_modifyitems(config, items):
    """Mark this folder's tests ``browser``; skip (or, when required, fail) them without Chromium."""
    here = Path(__file__).parent
    mine = [item for item in items if here in item.path.parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    if mine and not os.path.exists(CHROMIUM) and os.environ.get("REQUIRE_BROWSER") != "1":
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (set REQUIRE_BROWSER=1 to make this a failure)")
        for item in mine:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one."""
    if not os.path.exists(CHROMIUM):
        # Only reached with REQUIRE_BROWSER=1: the tests were not skipped, so they must fail.
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing: install Debian's chromium package",
                    pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def base_url():
    """No session-wide base URL: each test has its own live server (see live_server).

    This also replaces pytest-playwright's own base_url fixture, an instance method of a plugin
    class that pytest 9 warns about (and the suite turns warnings into errors)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Every context is a phone: 390×844 CSS pixels at 2×, touch."""
    return {**browser_context_args, **PHONE, "locale": "en-GB"}


def read_whole_file(file, buffer_size: int = 8192) -> list[bytes]:
    """The live server's wsgi.file_wrapper: the file read at once and closed. Werkzeug's development
    server skips closing a response when the browser drops the connection mid-answer (it does, on
    navigating away), and the file left open fails the test with a ResourceWarning; gunicorn, which
    serves the app for real, closes it."""
    try:
        return [file.read()]
    finally:
        file.close()


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors still reach the app's logger); files sent whole."""

    def log_request(self, code="-", size="-"):
        pass

    def make_environ(self):
        """The request's environ, with a file wrapper that leaves no file open."""
        environ = super().make_environ()
        environ["wsgi.file_wrapper"] = read_whole_file
        return environ


@pytest.fixture
def live_server(app):
    """The test app on a real loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    # Customer links and QR codes point at PUBLIC_URL: let them open on this server.
    app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


class BrowserProblems:
    """CSP violations, console errors and uncaught page errors seen in any watched context."""

    def __init__(self):
        self.items: list[str] = []
        # Contexts (by id) already given the CSP watch, and those also watched for console errors:
        # a context is watched once however many fixtures hand it on.
        self._csp_watched: set[int] = set()
        self._fully_watched: set[int] = set()

    @staticmethod
    def describe(v: dict) -> str:
        """One line for a securitypolicyviolation event."""
        return (f"CSP {v.get('directive')} blocked {v.get('blocked')!r} on {v.get('page')}"
                f" ({v.get('source')}:{v.get('line')}) sample={v.get('sample')!r}")

    def watch_csp(self, context):
        """Only the CSP watch: the securitypolicyviolation listener in every page, and Chromium's own
        console line for a violation (also seen with JavaScript off, where no listener runs). Every
        context of every browser test gets at least this (every_context_watched_for_csp)."""
        if id(context) in self._csp_watched:
            return context
        self._csp_watched.add(id(context))
        context.expose_binding("__reportCspViolation", lambda source, v: self.items.append(self.describe(v)))
        context.add_init_script(WATCH_CSP)
        for page in context.pages:
            self._watch_csp_console(page)
        context.on("page", self._watch_csp_console)
        return context

    def _watch_csp_console(self, page):
        def seen(msg):
            # A fully watched context reports every console error already (_watch_page).
            if "Content Security Policy" in msg.text and not (
                    msg.type == "error" and id(page.context) in self._fully_watched):
                self.items.append(f"console.{msg.type} on {page.url}: {msg.text}")
        page.on("console", seen)

    def watch(self, context):
        """Install the CSP listener and the console/page-error listeners on a context."""
        self.watch_csp(context)
        if id(context) in self._fully_watched:
            return context
        self._fully_watched.add(id(context))
        for page in context.pages:
            self._watch_page(page)
        context.on("page", self._watch_page)
        return context

    def _watch_page(self, page):
        page.on("console", lambda msg: self.items.append(
            f"console.{msg.type} on {page.url}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.items.append(f"page error on {page.url}: {exc}"))

    def check(self, page=None):
        """Fail on anything seen so far, including violations stored on a page's window."""
        if page is not None and not page.is_closed():
            for v in page.evaluate("window.__cspViolations || []"):
                if self.describe(v) not in self.items:
                    self.items.append(self.describe(v))
        assert not self.items, "the browser reported problems:\n" + "\n".join(self.items)


@pytest.fixture
def browser_problems():
    """What went wrong in the browser during the test; asserted empty when the test ends."""
    problems = BrowserProblems()
    yield problems
    problems.check()


@pytest.fixture(autouse=True)
def every_context_watched_for_csp(request, monkeypatch):
    """Every browser context a test opens, however it opens it (browser.new_context in a crawl, a
    context with JavaScript off), is watched for CSP violations, and the test that caused one fails:
    the strict CSP must never break a page silently. Cheap: one init script and one binding per
    context. Tests that never open a browser do not start one for this."""
    if "browser" not in request.fixturenames and "new_context" not in request.fixturenames:
        return
    from playwright.sync_api import Browser
    problems = request.getfixturevalue("browser_problems")
    opened = Browser.new_context

    def new_context(self, *args, **kwargs):
        return problems.watch_csp(opened(self, *args, **kwargs))
    monkeypatch.setattr(Browser, "new_context", new_context)


@pytest.fixture
def context(new_context, browser_problems):
    """A phone-sized context watched for CSP violations and console errors."""
    return browser_problems.watch(new_context())


@pytest.fixture
def open_context(new_context, browser_problems):
    """More watched phone contexts (another person's phone): open_context()."""
    return lambda: browser_problems.watch(new_context())


@pytest.fixture
def shoot():
    """Save a full-page screenshot for people to look at, when SCREENSHOTS=1: shoot(page, "03-order-review").
    Without it nothing is taken: no test reads these pictures, and drawing and encoding ninety
    full pages at twice the phone's resolution took a tenth of the browser tests' time."""
    if os.environ.get("SCREENSHOTS") != "1":
        return lambda page, name: None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # caret="initial": hiding the caret makes Playwright set and clear an inline style on every
        # input, leaving style="" behind; htmx's settle step then copies that attribute onto the
        # swapped-in inputs, which the CSP (rightly) blocks and this suite would report.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path
    return take


def drawn(page, image, timeout: float = 10.0) -> bool:
    """Whether an <img> finished loading a real picture (not a broken icon), waiting for it to load:
    an image is visible, at its set size, before its picture has arrived."""
    image.scroll_into_view_if_needed()  # thumbnails load lazily
    expect(image).to_be_visible()
    for _ in range(int(timeout / 0.05)):  # polled from here: wait_for_function's predicate is eval'd, which the CSP forbids
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            return True
        page.wait_for_timeout(50)
    return False
