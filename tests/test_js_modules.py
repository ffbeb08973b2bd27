"""The page scripts as ES modules: every module a page imports is pre-cached by the service worker
(else, without signal, one failed import stops the whole outbox), the pages load them as modules
with their preloads, and translated texts reach every script one way, the page's i18n JSON block."""
import json
import re
from pathlib import Path

from .helpers import unhashed
from webapp.pwa.views import (KEPT_PAGE_MODULES, LAZY_STATIC, ON_DEMAND_MODULES, PAGE_IMPORTS, PAGE_MODULES,
                              PAGE_SCRIPTS, SHELL_STATIC, STORE_SCRIPT)

STATIC = Path(__file__).resolve().parent.parent / "static"
IMPORT = re.compile(r"""^\s*import\s*(?:[^'"(]*?\s+from\s+)?['"](\.{1,2}/[^'"]+)['"]""", re.M)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*['"](\.{1,2}/[^'"]+)['"]\s*\)""")


def imports_of(name: str, dynamic: bool = False) -> set[str]:
    """The static names a module imports (with import() too when dynamic), resolved against its folder."""
    here = (STATIC / name).parent
    source = (STATIC / name).read_text()
    found = IMPORT.findall(source) + (DYNAMIC_IMPORT.findall(source) if dynamic else [])
    return {str((here / each).resolve().relative_to(STATIC)) for each in found}


def module_graph(entries, dynamic: bool = False) -> set[str]:
    """Every module reachable from the entries (through import() too when dynamic)."""
    seen, todo = set(), list(entries)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imports_of(name, dynamic))
    return seen


def module_scripts(page: str) -> list[str]:
    """The static names of a page's <script type="module"> tags."""
    return [unhashed(name) for name in re.findall(r'<script type="module" src="/static/([^"]+)"></script>', page)]


def i18n_block(page: str) -> dict:
    """The page's one block of script texts."""
    blocks = re.findall(r'<script type="application/json" id="i18n">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_every_imported_module_is_precached_and_preloaded(client):
    """All that base.html's modules import, however deep, is in the shell, and announced with
    modulepreload; what they import() on demand is in the shell too, not preloaded; the islands' own
    modules (scanner, signature) are kept once used."""
    page = client.get("/login").get_data(as_text=True)
    entries = module_scripts(page)
    assert entries == list(PAGE_SCRIPTS)
    loaded = module_graph(entries)
    graph = module_graph(entries, dynamic=True)
    assert {"js/i18n.js", "js/outbox/replay.js", "js/outbox/ui.js"} <= loaded
    assert graph - loaded == set(ON_DEMAND_MODULES)
    # The store is a classic script run before the modules (they take self.Outbox), pre-cached too.
    assert re.search(r'<script src="/static/js/outbox-store\.[0-9a-f]{8}\.js" defer></script>', page).start() \
        < page.index('type="module"')
    assert STORE_SCRIPT in SHELL_STATIC and STORE_SCRIPT not in graph
    assert graph == set(PAGE_MODULES) and graph <= set(SHELL_STATIC)
    preloaded = {unhashed(n) for n in re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', page)}
    assert preloaded == set(PAGE_IMPORTS) == loaded - set(entries)
    # The islands' own modules import only what every page has, and those of kept pages are kept.
    islands = ["js/scanner.js", "js/signature.js", "js/countdown.js", *KEPT_PAGE_MODULES]
    assert module_graph(islands) - graph == set(islands)
    assert set(KEPT_PAGE_MODULES) <= set(SHELL_STATIC) and "js/signature.js" in LAZY_STATIC


def test_the_worker_precaches_the_modules_and_stays_classic(client):
    """The service worker's shell lists each module; the worker itself loads the store with
    importScripts (a classic worker: module workers are missing on some phones' WebViews)."""
    worker = client.get("/sw.js").get_data(as_text=True)
    settings = json.loads(re.search(r"var SETTINGS = (\{.*?\});", worker).group(1))
    shell = {unhashed(url) for url in settings["shell"]}
    for name in PAGE_MODULES:
        assert f"/static/{name}" in shell
    assert unhashed(settings["store"]) == "/static/js/outbox-store.js" != settings["store"]
    assert "importScripts(SETTINGS.store)" in worker and not re.search(r"^\s*(import|export)\s", worker, re.M)
    # The store is a classic script: no import/export statements.
    assert not re.search(r"^\s*(import|export)\s", (STATIC / "js/outbox-store.js").read_text(), re.M)


def test_texts_reach_scripts_only_through_the_i18n_block(as_user):
    """One JSON block per page carries the scripts' words in the page's language; the islands' pages
    add their group; no script reads words from data attributes any more."""
    client = as_user("warehouse")
    client.post("/lang/zh", data={"next": "/"})
    scan = client.get("/scan").get_data(as_text=True)
    texts = i18n_block(scan)
    assert set(texts) == {"outbox", "widgets", "scanner"}
    assert texts["outbox"]["sendNow"] == "立即发送"
    assert texts["scanner"]["queued"].count("%(code)s") == 1 and "%(code)s" in texts["scanner"]["offline"]
    assert "data-msg-" not in scan
    home = client.get("/").get_data(as_text=True)
    assert set(i18n_block(home)) == {"outbox", "widgets"}
    assert '"i18n"' not in re.search(r'id="app-config">(.*?)</script>', home, re.S).group(1)
    for name in ("copy.js", "photos.js", "keypad.js", "precheck.js", "countdown.js", "scanner.js", "outbox/ui.js",
                 "outbox/switch.js"):
        source = (STATIC / "js" / name).read_text()
        assert "i18n.js" in source, name
        assert not re.search(r"getAttribute\(['\"]data-(msg|copied|close|keypad-|left|expired|message|"
                             r"required-message|sign-message|consent-message|summary-title|label-format|"
                             r"download-label)", source), name
