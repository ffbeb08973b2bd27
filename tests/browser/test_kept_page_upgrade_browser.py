"""A page kept on the phone before the scripts became modules (issue 10) still records without signal
after the upgrade: its HTML loads outbox-store.js and outbox.js as classic scripts and carries the
outbox's words in #app-config; the service worker serves it with module tags (sw.js asOfflineCopy)
and i18n.js finds the words there. The action it records reaches the server once the signal returns."""
import json
import re

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.production.models import ProgressReport

from .test_offline_browser import offline_noise_only, ready_for_offline, shared_phone, wait_db
from .test_order_desk_browser import log_in


def as_kept_before_modules(html: str) -> str:
    """Today's page as base.html wrote it before issue 10: classic deferred scripts, no modulepreload,
    no i18n block, the outbox's words inside #app-config, static files under their plain names."""
    texts = json.loads(re.search(r'<script type="application/json" id="i18n">(.*?)</script>', html, re.S).group(1))
    html = re.sub(r'\s*<script type="application/json" id="i18n">.*?</script>', "", html, flags=re.S)
    html = re.sub(r'\s*<link rel="modulepreload" href="[^"]+">', "", html)
    # Before content-hashed names (issue 17): plain static names, no import map; the worker serves
    # its current copy of each plain name without signal.
    html = re.sub(r'\s*<script type="importmap">.*?</script>', "", html, flags=re.S)
    html = re.sub(r'(/static/[^"]+)\.[0-9a-f]{8}(\.[A-Za-z0-9]+)"', r'\1\2"', html)
    html = html.replace('<script type="module" src="/static/js/outbox.js"></script>',
                        '<script src="/static/js/outbox-store.js" defer></script>\n'
                        '  <script src="/static/js/outbox.js" defer></script>')
    html = re.sub(r'<script type="module" src="([^"]+)"></script>', r'<script src="\1" defer></script>', html)
    config = re.search(r'<script type="application/json" id="app-config">(.*?)</script>', html, re.S)
    old_config = json.dumps({**json.loads(config.group(1)), "i18n": texts["outbox"]})
    assert 'type="module"' not in html
    return html[:config.start(1)] + old_config + html[config.end(1):]


def test_a_page_kept_before_the_modules_still_records_offline(app, live_server, context, browser_problems,
                                                              make_order, make_user):
    """The kept work order, in its old form, records a report in the outbox without signal, shows it
    in the old page's words, and the report lands once online."""
    base = live_server
    huang, _lin, _wo, token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, base, "huang")
    ready_for_offline(page, huang)
    old = as_kept_before_modules(page.request.get(f"{base}/w/{token}").text())
    # Put the old form into the service worker's store of kept pages, as an earlier version left it.
    page.evaluate("""([url, html]) => caches.open('pages-v1').then(c => c.put(url,
        new Response(html, {headers: {'Content-Type': 'text/html; charset=utf-8'}})))""",
                  [f"{base}/w/{token}", old])
    context.set_offline(True)
    response = page.goto(f"{base}/w/{token}")
    assert response.from_service_worker
    html = page.content()
    assert 'id="i18n"' not in html and '<script type="module" src="/static/js/copy.js">' in html
    expect(page.locator("#offline-copy")).to_contain_text("No signal: offline copy from")
    page.get_by_role("button", name="+5 good").click()
    here = page.locator("#outbox-here")
    expect(here).to_contain_text("Recorded on this phone, not yet on the server")
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0
    context.set_offline(False)
    wait_db(app, lambda: db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)), 1)
    offline_noise_only(browser_problems)
    browser_problems.check(page)
