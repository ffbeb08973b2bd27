"""The scanner's 1 MB decoder at phone width (issue 17, DESIGN.md §6): a phone of a person who scans
keeps it once after logging in (for use without signal), a second login does not fetch it again, and
an office person's phone never fetches it before opening the scanner. Counted at the server: every
request that reached it, the service worker's own fetches included."""
import re
import threading

import pytest

from .test_offline_browser import CONTROLLED, poll
from .test_order_desk_browser import log_in, log_out

HASHED = re.compile(r"^/static/.+\.[0-9a-f]{8}\.[A-Za-z0-9]+$")
DECODER = ("/static/vendor/zxing_reader-", "/static/vendor/barcode-detector-")


class Requests:
    """Every path the app was asked for, as WSGI middleware in front of it."""

    def __init__(self, app):
        self.paths: list[str] = []
        self.lock = threading.Lock()
        self.inner = app.wsgi_app
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        with self.lock:
            self.paths.append(environ.get("PATH_INFO", ""))
        return self.inner(environ, start_response)

    def decoder(self) -> list[str]:
        """The decoder's files asked for so far."""
        with self.lock:
            return [path for path in self.paths if path.startswith(DECODER)]


@pytest.fixture
def requests_seen(app):
    """What reached the app (installed before the live server takes a request)."""
    return Requests(app)


@pytest.mark.parametrize("role", ["worker", "courier"])
def test_a_person_who_scans_keeps_the_decoder_once(app, requests_seen, live_server, context, make_user,
                                                   browser_problems, role):
    """After logging in, the phone fetches the decoder once and keeps it; logging in again fetches
    nothing more, and the kept copy answers the scanner page's own request."""
    make_user(role, username="scanner1")
    page = context.new_page()
    log_in(page, live_server, "scanner1")
    poll(page, CONTROLLED)
    poll(page, "document.documentElement.dataset.scannerKept === '1'")
    fetched = requests_seen.decoder()
    assert sorted(p.split("/")[-1].split("-")[0] for p in fetched) == ["barcode", "zxing_reader"], fetched
    kept = page.evaluate("caches.open('lazy-v1').then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))")
    assert set(fetched) <= set(kept)

    log_out(page)
    log_in(page, live_server, "scanner1")
    poll(page, CONTROLLED)
    poll(page, "document.documentElement.dataset.scannerKept === '1'")
    poll(page, "document.documentElement.dataset.pagesKept !== undefined")
    assert requests_seen.decoder() == fetched
    browser_problems.check(page)


def test_an_office_person_does_not_fetch_the_decoder(app, requests_seen, live_server, context, make_user,
                                                     browser_problems):
    """A finance clerk's phone installs the worker, keeps its pages and the signature pad, and asks for
    no decoder file."""
    make_user("finance", username="clerk")
    page = context.new_page()
    log_in(page, live_server, "clerk")
    poll(page, CONTROLLED)
    poll(page, "document.documentElement.dataset.pagesKept !== undefined")
    # The worker kept the lazy files everybody gets (the signature pad), and only those.
    poll(page, """caches.open('lazy-v1').then(c => c.keys())
                  .then(k => k.some(r => r.url.indexOf('/vendor/signature_pad-') !== -1))""")
    assert page.evaluate("document.documentElement.dataset.scannerKept") is None
    assert any(path.startswith("/static/js/outbox") for path in requests_seen.paths)
    # Every static file went by its hashed name: the import map sent the modules' plain imports there.
    plain = [p for p in requests_seen.paths if p.startswith("/static/") and not HASHED.match(p)]
    assert plain == [], plain
    assert requests_seen.decoder() == []
    browser_problems.check(page)
