"""Front-end delivery (DESIGN.md §6, issue 17): static files under content-hashed names with a year's
immutable cache (plain names still answer, revalidated), the service worker at a stable uncached URL
whose cache version follows every static file, CSRF tokens masked per response (BREACH), and the bytes
each phone page ships on a first visit (weighed by check_first_visits, which tests/test_demo_firm.py runs
on the demo firm; -s prints the table)."""
import gzip
import re
import shutil
from pathlib import Path

import brotli
import pytest

from webapp import assets
from webapp.extensions import db

from .helpers import text_of, unhashed
from .test_js_budget import scripts_of

STATIC = Path(__file__).resolve().parent.parent / "static"
BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
STATIC_URL = re.compile(r'(?:src|href)="(/static/[^"]+)"')
HASHED_URL = re.compile(r"^/static/.+\.[0-9a-f]{8}\.[A-Za-z0-9]+$")
YEAR = "public, max-age=31536000, immutable"
# A phone link's first round trip carries ~14 KB (TCP's initial window of 10 segments); a phone
# page's whole first visit at most 60 KB (DESIGN.md §6), counted in thousands to leave no doubt.
FIRST_ROUND_TRIP = 14_000
FIRST_VISIT = 60_000
# The scanner's decoder has a budget of its own (DESIGN.md §6): loaded only where the phone has no
# BarcodeDetector, and kept once by the service worker.
DECODER = ("vendor/barcode-detector", "vendor/zxing_reader")


def static_urls(page: str) -> list[str]:
    """Every /static/ URL a page names in src= or href=."""
    return STATIC_URL.findall(page)


def test_pages_name_static_files_by_their_content_hash(client, as_user):
    """Every static file a page names carries its hash, and the hash is the file's content's."""
    for page in (text_of(client.get("/login")), text_of(as_user("warehouse").get("/scan"))):
        urls = static_urls(page)
        assert len(urls) >= 10
        for url in urls:
            assert HASHED_URL.match(url), url
            name = url.removeprefix("/static/")
            assert assets.hashed_name(unhashed(name), client.application.static_folder) == name
    manifest = client.get("/manifest.webmanifest").get_json()
    assert all(HASHED_URL.match(icon["src"]) for icon in manifest["icons"])


def test_hashed_name_is_cached_for_a_year_and_compressed_with_304(client):
    """The hashed name: a year's immutable cache, gzip or brotli as asked, a 304 for its ETag; the
    plain name answers too (an old worker's cache asks for it) with no-cache, the same bytes."""
    url = assets_url(client, "vendor/htmx-4.0.1.min.js")
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.headers["Cache-Control"] == YEAR
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    body = gzip.decompress(zipped.get_data())
    assert len(zipped.get_data()) < len(body) / 2
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == YEAR
    br = client.get(url, headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.get_data()) == body
    assert br.headers["Cache-Control"] == YEAR
    plain = client.get(unhashed(url), headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert gzip.decompress(plain.get_data()) == body
    revalidated = client.get(unhashed(url), headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]})
    assert revalidated.status_code == 304
    # A hash that is no longer (or never was) the file's: its current bytes, revalidated each time.
    stale = client.get(re.sub(r"\.[0-9a-f]{8}\.js$", ".00000000.js", url), headers={"Accept-Encoding": "gzip"})
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"
    assert gzip.decompress(stale.get_data()) == body
    assert client.get("/static/js/nothing.1a2b3c4d.js").status_code == 404
    wasm = client.get(assets_url(client, "vendor/zxing_reader-3.1.3.wasm"), headers={"Accept-Encoding": "br"})
    assert wasm.headers["Cache-Control"] == YEAR and wasm.headers["Content-Encoding"] == "br"
    assert len(wasm.get_data()) < 500_000



def test_a_logged_in_persons_static_files_do_not_vary_by_cookie(client, as_user):
    """The static files answer the same for everyone: no Vary: Cookie (which keeps a proxy or a CDN from
    sharing the immutable files), even for a person whose session the app checks on every page."""
    person = as_user("warehouse")
    url = assets_url(client, "vendor/htmx-4.0.1.min.js")
    answer = person.get(url, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == YEAR
    assert "cookie" not in answer.headers.get("Vary", "").lower(), answer.headers["Vary"]

def test_the_stylesheet_is_sent_without_its_comments(client):
    """app.css leaves its comments behind (a fifth of it), the same bytes plain, gzip and brotli; its
    rules all stay."""
    url = assets_url(client, "css/app.css")
    plain = client.get(url)
    sent = plain.get_data()
    source = (STATIC / "css" / "app.css").read_text()
    assert b"/*" not in sent and "/*" in source and len(sent) < 0.9 * len(source.encode())
    assert sent.count(b"{") == len(re.findall(r"\{", re.sub(r"/\*.*?\*/", "", source, flags=re.S)))
    assert gzip.decompress(client.get(url, headers={"Accept-Encoding": "gzip"}).get_data()) == sent
    assert brotli.decompress(client.get(url, headers={"Accept-Encoding": "br"}).get_data()) == sent
    unchanged = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
    assert unchanged.status_code == 304
    unchanged.close()  # a 304 of a static file holds the file Flask opened: closed, as the server does


def assets_url(client, name: str) -> str:
    """The hashed URL of a static file, as url_for gives it."""
    with client.application.test_request_context():
        from flask import url_for
        return url_for("static", filename=name)


def test_the_modules_plain_imports_are_mapped_to_hashed_names(client):
    """Modules import each other by plain relative names; the page's import map sends each to its
    hashed name (the one its modulepreload fetched), allowed by the response's CSP hash."""
    response = client.get("/login")
    page = text_of(response)
    found = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    import json
    imports = json.loads(found.group(1))["imports"]
    assert imports["/static/js/i18n.js"] == assets_url(client, "js/i18n.js")
    assert imports["/static/js/outbox/ui.js"] == assets_url(client, "js/outbox/ui.js")
    preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', page)
    assert preloads and set(preloads) <= set(imports.values())
    assert page.index('type="importmap"') < page.index('type="module"') < page.index("modulepreload")
    assert "'sha256-" in response.headers["Content-Security-Policy"]


def test_the_service_worker_stays_at_one_uncached_url(client):
    """/sw.js: the same URL whatever changes, never cached; its shell lists hashed names, and each
    plain name it may be asked for maps to this version's hashed one."""
    import json
    worker = client.get("/sw.js", headers={"Accept-Encoding": "gzip"})
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert worker.mimetype == "text/javascript"
    settings = json.loads(re.search(r"var SETTINGS = (\{.*?\});", gzip.decompress(worker.get_data()).decode()).group(1))
    assert all(HASHED_URL.match(url) for url in settings["shell"] + settings["lazy"] + settings["scanner"])
    assert settings["names"]["/static/css/app.css"] == assets_url(client, "css/app.css")
    assert {unhashed(url) for url in settings["scanner"]} == {
        "/static/vendor/barcode-detector-3.2.2.ponyfill.iife.js", "/static/vendor/zxing_reader-3.1.3.wasm",
        "/static/js/scanner.js"}
    assert set(settings["scanner"]) <= set(settings["lazy"])


def test_the_workers_version_changes_when_any_static_file_does(app, tmp_path):
    """A changed file (one no page preloads, too) gets a new hashed name and a new worker version;
    its old hashed name answers the new bytes, revalidated."""
    import json
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    app.static_folder = str(static)
    client = app.test_client()

    def version():
        return json.loads(re.search(r"var SETTINGS = (\{.*?\});", client.get("/sw.js").get_data(as_text=True))
                          .group(1))["version"]

    before, old_url = version(), assets_url(client, "js/countdown.js")
    with open(static / "js" / "countdown.js", "a") as handle:
        handle.write("\n// changed\n")
    new_url = assets_url(client, "js/countdown.js")
    assert new_url != old_url and version() != before
    new = client.get(new_url)
    assert new.headers["Cache-Control"] == YEAR
    new.close()
    old = client.get(old_url)
    assert old.headers["Cache-Control"] == "no-cache" and old.get_data().endswith(b"// changed\n")
    old.close()


def test_the_decoder_is_offered_only_to_people_who_scan(app, as_user):
    """The page's settings list the decoder's files for a worker and a courier (the
    worker keeps them once), none for an office role."""
    import json

    def config(role):
        page = text_of(as_user(role).get("/"))
        return json.loads(re.search(r'<script type="application/json" id="app-config">(.*?)</script>', page).group(1))

    for role in ("worker", "courier"):
        assert {unhashed(u) for u in config(role)["scanner"]} >= {"/static/vendor/zxing_reader-3.1.3.wasm"}, role
    for role in ("finance", "sales"):
        assert config(role)["scanner"] == [], role


# --- CSRF tokens masked per response (BREACH) ------------------------------------------------------------

def page_token(response) -> str:
    """The CSRF token a page's language form carries."""
    return re.search(r'name="csrf_token" value="([^"]+)"', text_of(response)).group(1)


@BOTH
def test_each_response_masks_the_token_and_both_validate(app, as_user):
    """Two pages show two different token strings; each one posts; the session's own token never
    appears in a page; an old unmasked token (a page rendered before masking) still posts."""
    client = as_user("sales")
    first, second = client.get("/"), client.get("/")
    one, two = page_token(first), page_token(second)
    assert one != two and "." not in one
    # one mask per response: every copy in the page (forms, htmx header, the outbox's settings) is the same
    assert set(re.findall(r'"X-CSRFToken": "([^"]+)"', text_of(first))) == {one}
    with client.session_transaction() as session:
        secret = session["csrf_token"]
    for response in (first, second):
        assert secret not in text_of(response)
    for token in (one, two, client.csrf_token()):
        response = client.post("/lang/zh", data={"csrf_token": token, "next": "/"}, csrf=False)
        assert response.status_code == 303, token
        response = client.post("/lang/en", data={"next": "/"}, headers={"X-CSRFToken": token}, csrf=False)
        assert response.status_code == 303, token


@BOTH
def test_a_tampered_or_foreign_token_is_refused_with_the_translated_message(app, as_user):
    """A masked token with one character changed, or another session's, gets the form-expired page in
    the person's language."""
    client = as_user("sales")
    client.post("/lang/zh", data={"next": "/"})
    token = page_token(client.get("/"))
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (flipped, token[:-4], page_token(as_user("finance").get("/")), "garbage"):
        response = client.post("/lang/en", data={"csrf_token": bad, "next": "/"}, csrf=False)
        assert response.status_code == 400, bad
        assert "表单已过期或来源无效" in text_of(response)


# --- the bytes a phone page ships on a first visit ----------------------------------------------------

def sent_size(client, url: str, encoding: str) -> int:
    """The bytes of a response as sent to a browser that accepts this encoding."""
    response = client.get(url, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200, url
    size = len(response.get_data())
    response.close()
    return size


def first_visit(client, path: str, encoding: str) -> dict:
    """What a first visit downloads, compressed as sent (br: a phone over HTTPS; gzip: over plain HTTP): the HTML, its CSS, every script it loads (tags,
    modulepreloads, their imports, what its elements import() at load), icons and images, the manifest;
    the scanner's decoder apart (its own budget)."""
    response = client.get(path, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200, path
    decode = {"br": brotli.decompress, "gzip": gzip.decompress}.get(response.headers.get("Content-Encoding"))
    html = (decode(response.get_data()) if decode else response.get_data()).decode()
    names = {unhashed(url.removeprefix("/static/")) for url in static_urls(html)}
    names |= scripts_of(html)
    names = {name for name in names if not name.startswith(DECODER)}
    sizes = {"html": len(response.get_data()), "css": 0, "js": 0, "other": 0}
    for name in sorted(names):
        kind = "css" if name.endswith(".css") else "js" if name.endswith(".js") else "other"
        sizes[kind] += sent_size(client, f"/static/{name}", encoding)
    if 'rel="manifest"' in html:
        sizes["other"] += sent_size(client, "/manifest.webmanifest", encoding)
    sizes["total"] = sum(sizes.values())
    return sizes


def demo_paths(app) -> dict:
    """The phone pages of the demo firm: the scan landing page, a worker page, the customer's tracking
    and signing links and a courier's link."""
    from webapp.links import AccessLink
    from webapp.production.models import WorkOrder
    from webapp.wallclock import utcnow

    def live(purpose):
        link = db.session.scalar(db.select(AccessLink).where(
            AccessLink.purpose == purpose, AccessLink.revoked_at.is_(None), AccessLink.used_at.is_(None),
            AccessLink.expires_at > utcnow()).order_by(AccessLink.id.desc()))
        assert link is not None, purpose
        return f"/c/{link.token}"

    with app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.status == "in_progress")
                                       .order_by(WorkOrder.id))
        return {"scan landing": "/scan", "worker page": f"/w/{work_order.token}",
                "customer tracking": live("order_service"), "customer signing": live("delivery_receipt"),
                "courier link": live("courier")}


def check_first_visits(demo_app) -> dict:
    """The scan landing page's HTML and CSS fit the first round trip (14 KB compressed); each phone
    page's first visit ships at most 60 KB compressed, all it references included: in brotli (a phone
    over HTTPS) and in gzip (over plain HTTP on a LAN) alike. Run by tests/test_demo_firm.py on the
    demo firm it loads anyway; returns the table."""
    from .conftest import demo_login
    worker = demo_login(demo_app, "huang.xm")
    table = {}
    for name, path in demo_paths(demo_app).items():
        client = worker if not path.startswith("/c/") else demo_app.test_client()
        for encoding in ("br", "gzip"):
            table[name, encoding] = first_visit(client, path, encoding)
    for (name, encoding), sizes in table.items():
        print(f"{name:>18} {encoding:>4}: " + "  ".join(f"{k} {v:,}" for k, v in sizes.items()))
    for encoding in ("br", "gzip"):
        scan = table["scan landing", encoding]
        assert scan["html"] + scan["css"] <= FIRST_ROUND_TRIP, (encoding, scan)
    assert all(sizes["total"] <= FIRST_VISIT for sizes in table.values()), table
    return table
