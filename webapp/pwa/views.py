"""The web app manifest, the service worker at the root scope, the offline page and the outbox page."""
import hashlib
import json
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

from flask import Response, current_app, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext as _

from .. import assets
from ..htmx import render
from ..script_texts import script_texts
from . import bp, keep_offline

# The app shell: what every page needs, precached by the service worker under a versioned name.
# The JavaScript modules every page loads (the <script type="module"> tags of templates/base.html) and
# all that they import; the imports are announced with <link rel="modulepreload">, so that a phone's
# first visit fetches them at once, not import by import. A module missing here would not be cached,
# and without signal its failed import stops the whole outbox (tests/test_js_modules.py checks this).
PAGE_SCRIPTS = ("js/copy.js", "js/photos.js", "js/on-demand.js", "js/outbox.js")
PAGE_IMPORTS = ("js/i18n.js", "js/outbox/page.js", "js/outbox/phone.js", "js/outbox/replay.js", "js/outbox/ui.js",
                "js/outbox/pages.js", "js/outbox/forms.js")
# Imported with import() only by a page that has what they serve (the JavaScript budget, DESIGN.md §6):
# an error summary, a keypad toggle, a form kept in the outbox, a list of waiting actions. Not
# preloaded, but pre-cached all the same: a kept page may need them without signal.
ON_DEMAND_MODULES = ("js/errors.js", "js/keypad.js", "js/outbox/record.js", "js/outbox/photos.js",
                     "js/outbox/list.js")
PAGE_MODULES = PAGE_SCRIPTS + PAGE_IMPORTS + ON_DEMAND_MODULES
# The outbox store: a classic script run before the modules, shared with the service worker.
STORE_SCRIPT = "js/outbox-store.js"
# The modules of pages that are kept for use without signal (the worker switch, a courier's receipt),
# loaded by those pages only: precached too, or the kept page would lose them offline.
KEPT_PAGE_MODULES = ("js/outbox/switch.js", "js/precheck.js")
SHELL_STATIC = ("vendor/htmx-4.0.1.min.js", "css/app.css", STORE_SCRIPT, *PAGE_MODULES, *KEPT_PAGE_MODULES, "icons/favicon.svg",
                "icons/icon-192.png")
SHELL_PAGES = ("pwa.offline", "pwa.outbox")
# Loaded on their own pages only, but kept for offline use once the app is installed.
LAZY_STATIC = ("js/signature.js", "vendor/signature_pad-5.1.4.umd.min.js")


@bp.app_template_global()
def page_imports() -> tuple[str, ...]:
    """The static names of the modules every page's scripts import, for their modulepreload links."""
    return PAGE_IMPORTS


@bp.app_template_global()
def texts_for_scripts(page_groups=()) -> dict:
    """The translated texts of the page's scripts (webapp/script_texts.py), for the i18n JSON block."""
    return script_texts(page_groups)


def _static_path(name: str) -> Path:
    return Path(current_app.static_folder) / name


def _static_digests(static_folder: str) -> str:
    """Every static file's name and content digest (webapp/assets.py: hashed once per file version)."""
    names = sorted(str(p.relative_to(static_folder)) for p in Path(static_folder).rglob("*") if p.is_file())
    return "\n".join(f"{name} {assets.digest_of(name, static_folder)}" for name in names)


@lru_cache(maxsize=16)
def _version(root: str, sw_source: str, static_digests: str) -> str:
    """A version that changes whenever any static file (the shell's, a kept one, any other) or the
    worker itself changes: a new shell cache, and the pages point at the new hashed names."""
    digest = hashlib.sha256(sw_source.encode())
    digest.update(static_digests.encode())
    # The precached pages change with their templates and translations too.
    root = Path(root)
    for path in sorted([*root.glob("templates/pwa/*.html"), root / "templates/base.html",
                        *root.glob("webapp/translations/*/LC_MESSAGES/messages.po")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _asked_language() -> str | None:
    """The language a ?lang= names, when it is one of ours (the pages the worker keeps)."""
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else None


def _in_asked_language():
    """Render in the ?lang= language when one is asked (the worker keeps these pages without cookies)."""
    lang = _asked_language()
    return force_locale(lang) if lang else nullcontext()


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole app."""
    source = _static_path("js/sw.js").read_text()
    scanner = tuple(_scanner_files())
    lazy = LAZY_STATIC + scanner
    # One worker for every language: a phone shared by people of different languages keeps one worker
    # and one shell. Its offline and outbox pages are kept in every language, each under its own URL
    # (fetched without cookies, so the URL names the language); the worker shows the one for the
    # language the last live page recorded (meta 'lang'). A ?lang= (older pages registered
    # /sw.js?lang=…) is ignored: the same worker answers.
    languages = list(current_app.config["LANGUAGES"])
    settings = {
        "version": _version(str(Path(current_app.root_path).parent), source,
                            _static_digests(current_app.static_folder)),
        # Content-hashed names (webapp/assets.py), and which hashed name each plain one is now.
        "shell": [url_for("static", filename=n) for n in SHELL_STATIC],
        "names": {url_for("static", filename=n, _plain=True): url_for("static", filename=n)
                  for n in SHELL_STATIC + lazy},
        "pages": {url_for(p): {lang: url_for(p, lang=lang) for lang in languages} for p in SHELL_PAGES},
        "defaultLanguage": languages[0],
        "lazy": [url_for("static", filename=n) for n in lazy],
        # Kept only for people who scan, once, when their page asks (outbox/pages.js).
        "scanner": [url_for("static", filename=n) for n in scanner],
        "offline": url_for("pwa.offline"),
        "manifest": url_for("sync.manifest"),
        "store": url_for("static", filename=STORE_SCRIPT),
    }
    body = source.replace("/*SETTINGS*/{}", json.dumps(settings))
    response = Response(body, mimetype="text/javascript")
    # Browsers check for a new worker on navigation; never let a cache hide one.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _scanner_files() -> list[str]:
    """The vendored decoder files (cached for offline scanning by people who scan)."""
    return assets.scanner_files()


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest (names in the user's language; installable on Android and desktop)."""
    data = {
        "id": "/",
        "name": _("Order tracker"),
        "short_name": _("Orders"),
        "description": _("Orders from requirement to cost review, on the floor, in the warehouse and on the road."),
        "lang": "zh-CN" if str(get_locale()) == "zh" else "en",
        "start_url": url_for("main.home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for("static", filename="icons/maskable-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "maskable"},
            {"src": url_for("static", filename="icons/maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/manifest+json")


@bp.get("/offline")
def offline():
    """What a page never opened before shows without signal."""
    # Marked: shown in place of any page without signal, it must not be taken for a live page that
    # nobody is logged in to (outbox.js would drop the kept pages).
    with _in_asked_language():
        return render_template("pwa/offline.html", offline_page=True)


@bp.get("/outbox")
def outbox():
    """What this phone still has to send, read from its own storage by outbox.js (works offline)."""
    keep_offline()
    with _in_asked_language():
        return render("pwa/outbox.html")
