"""No page scrolls sideways on a 390 px phone: every demo person, in Chinese (and a few in English),
visits every kind of page they can reach on the demo firm in a real Chromium, and so does the
customer's phone on the links staff send. A table may scroll inside its own box; the page may not.

The pages come from the shared crawler (tests/crawl.py) run with the test client, deduplicated to a
few URLs per kind of page (endpoint and query keys), so the browser visits a few hundred pages,
not thousands, and the run stays short as the demo firm grows."""
import threading
import time
from collections import defaultdict

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_PEOPLE, demo_login, dispose_demo_app, make_demo_app
from tests.crawl import Crawler

from .conftest import PHONE, QuietHandler

# How many URLs of one kind each person's phone visits: one of most kinds; a few of the pages whose
# panels change with the state (an order in review shows the capacity and stock tables, a later one
# the payments). More adds minutes and finds nothing new.
PER_KIND = 1
PER_STATEFUL_KIND = {"orders.detail": 4, "shipping.detail": 2, "requirements.detail": 2, "production.plan": 2}
# The crawl's phones run no service worker: it would install on each person's phone and fetch every
# page the person may need without signal, racing the crawl for the server (a page looks the same
# with or without it; the offline tests exercise the worker).
CRAWL_PHONE = {**PHONE, "service_workers": "block"}
# English takes longer words ("Unit price excl. tax"): the manager and the admin reach every office
# page, operations the shipping and receipt pages.
ENGLISH_PEOPLE = ("admin", "zhao.min", "li.qiang")

# In the page: when the document is wider than the screen, the element that sticks out furthest
# to the right (outermost first) that no scrolling box of its own clips, and the innermost such
# element inside it (usually the word or input that will not shrink).
WIDEST = """
() => {
  // A phone (and Chromium's phone emulation) zooms out to show a page wider than the screen, and
  // window.innerWidth then grows to the page's width: a check against it alone always passes.
  // The root's clientWidth stays the screen's 390 px.
  const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
  const scroll = document.documentElement.scrollWidth;
  if (scroll <= width) return null;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const describe = (el) => {
    if (!el) return '?';
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (el.classList.length) name += '.' + [...el.classList].join('.');
    const parent = el.parentElement ? el.parentElement.tagName.toLowerCase() : '';
    const text = (el.innerText || el.value || '').replace(/\\s+/g, ' ').trim().slice(0, 60);
    const box = el.getBoundingClientRect();
    return `${parent} > ${name} (right edge ${Math.round(box.right)} px, ${Math.round(box.width)} px wide) "${text}"`;
  };
  let outer = null, right = width + 0.5;
  const all = [...document.body.querySelectorAll('*')].filter((el) => !clipped(el));
  for (const el of all) {
    const r = el.getBoundingClientRect().right;
    if (r > right) { outer = el; right = r; }
  }
  let inner = outer;
  for (const el of all) {
    if (outer && outer.contains(el) && el.getBoundingClientRect().right >= right - 1) inner = el;
  }
  return {scroll, width, outer: describe(outer), inner: describe(inner)};
}
"""


# In the page: cells, buttons and labels squeezed so narrow that Chinese text stands one character
# per line (直/接/材/料): holding two or more CJK characters in less than two characters' width.
CRAMPED = """
() => {
  const found = [];
  const hidden = (el) => {  // not drawn, or inside a box shrunk to a pixel for screen readers only
    for (let p = el; p && p !== document.body; p = p.parentElement) {
      const box = p.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('main th, main td, main button, main .button, main .badge, main label')) {
    const text = (el.innerText || '').trim();
    if (!/[\\u3400-\\u9fff]{2}/.test(text) || hidden(el)) continue;
    const style = getComputedStyle(el), size = parseFloat(style.fontSize);
    const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (inner > 0 && inner < 1.9 * size) {
      found.push(`${el.tagName.toLowerCase()} "${text.replace(/\\s+/g, ' ').slice(0, 30)}" is ${Math.round(inner)} px wide`);
    }
  }
  return found;
}
"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo firm (SQLite, as `make run` loads it) on a live loopback server: (app, base URL)."""
    from werkzeug.serving import make_server
    app = make_demo_app(tmp_path_factory.mktemp("demo-narrow"), "sqlite")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base  # the customer links shown on staff pages open on this server
    # The phones keep the static files for an hour instead of asking for each again on every page (the
    # crawl's phones run no service worker, which would serve them): a few hundred pages each load the
    # same stylesheet and scripts, and the layout does not depend on how they were cached.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    dispose_demo_app(app)


def set_language(app, username: str, locale: str) -> None:
    """Store a person's language (as their account page does). The live server may still be
    finishing a request from the phone just closed (it holds SQLite's write lock for a moment on a
    busy machine): wait for it rather than fail."""
    from sqlalchemy.exc import OperationalError
    from webapp.auth.models import User
    from webapp.extensions import db
    for attempt in range(20):
        with app.app_context():
            try:
                db.session.scalar(db.select(User).where(User.username == username)).locale = locale
                db.session.commit()
                return
            except OperationalError:
                db.session.rollback()
                if attempt == 19:
                    raise
        time.sleep(1)


def reachable_pages(app, base: str, username: str, locale: str) -> tuple[list[str], object]:
    """The full pages (not htmx fragments, not files) a person reaches, a few of each kind, and the
    logged-in test client that found them."""
    set_language(app, username, locale)
    client = demo_login(app, username)
    crawler = Crawler(app, client, origins=(base, "http://localhost"))
    return pick_pages(crawler, crawler.crawl("/")), client


def pick_pages(crawler: Crawler, pages) -> list[str]:
    """A few URLs of each kind among the HTML pages that answered 200."""
    chosen, per_kind = [], defaultdict(int)
    for page in pages:
        if page.htmx or page.status != 200 or not page.is_html:
            continue
        kind = crawler.key(page.url, False)
        if per_kind[kind] < PER_STATEFUL_KIND.get(kind[0], PER_KIND):
            per_kind[kind] += 1
            chosen.append(page.url)
    return chosen


def log_in(page, base: str, username: str) -> None:
    """Log in through the login form (Enter in the password field: the first button switches language)."""
    from webapp.demo import DEMO_PASSWORD
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("input[name=password]")).to_have_count(0)


def hand_over(context, app, base: str, client) -> None:
    """Give the crawl phone the login of the test client that crawled (its session cookie), as if the
    person had logged in there; the login form has tests of its own."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.clear_cookies()
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


class OpenRequests:
    """The requests a page has started and not yet finished (an htmx panel loading after the page)."""

    def __init__(self, page):
        self.page, self.open = page, set()
        page.on("request", lambda request: self.open.add(request))
        page.on("requestfinished", lambda request: self.open.discard(request))
        page.on("requestfailed", lambda request: self.open.discard(request))

    def wait_until_none(self, timeout: float = 10.0) -> None:
        """Wait until none is open, so that moving on leaves no answer half sent. Unlike Playwright's
        "networkidle", this does not wait a further half second of silence."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        assert not self.open, f"still loading: {[request.url for request in self.open]}"


def too_wide(page, base: str, paths: list[str], who: str) -> list[str]:
    """Visit each path; one line per page wider than the screen (naming the widest element) and per
    element whose Chinese text stands one character per line."""
    problems = []
    for path in paths:
        response = page.goto(base + path, wait_until="load")
        if response is None or response.status != 200:  # the crawl had a 200: a lost login?
            problems.append(f"{who}: {path} answered {response.status if response else 'nothing'} in the browser")
            continue
        found, cramped_elements = page.evaluate(f"() => [({WIDEST})(), ({CRAMPED})()]")  # one round trip
        if found:
            problems.append(f"{who}: {path} is {found['scroll']} px wide on a {found['width']} px screen;"
                            f" widest: {found['outer']}; innermost: {found['inner']}")
        for cramped in cramped_elements:
            problems.append(f"{who}: {path}: one character per line: {cramped}")
    return problems


def visit_as_people(browser, app, base, people, locale: str) -> tuple[list[str], set[str], int]:
    """Each person's pages on a phone in locale: the problems, the customer links seen, pages visited.
    A page another person with the same roles has shown is not shown again (two sales people)."""
    from webapp.demo import USERS
    roles = {username: tuple(sorted(person_roles)) for username, _, person_roles, *_ in USERS}
    problems, customer_links, visited, shown = [], set(), 0, set()
    # One phone passed from person to person (only the login changes): its cache keeps the stylesheet
    # and scripts, which a phone of each person's own would fetch again for every person.
    context = browser.new_context(**CRAWL_PHONE, locale="zh-CN" if locale == "zh" else "en-GB")
    try:
        page = context.new_page()
        requests = OpenRequests(page)
        for username in people:
            paths, client = reachable_pages(app, base, username, locale)
            customer_links |= {path for path in paths if path.startswith("/c/")}
            staff_paths = [path for path in paths if not path.startswith("/c/")
                           and (roles.get(username), path) not in shown]
            shown |= {(roles.get(username), path) for path in staff_paths}
            hand_over(context, app, base, client)
            problems += too_wide(page, base, staff_paths, username)
            visited += len(staff_paths)
            requests.wait_until_none()  # the next person's language is stored while no request of this one is open
    finally:
        context.close()
    return problems, customer_links, visited


# The crawl is cut into three parts that pytest-xdist can run on different workers at once (each
# part's people share pages: a page one sales person has shown is not shown again for the other).
# The first part's people send the customer links (sales, the manager, operations and the
# warehouse), so it also opens every customer link on a phone that never logged in.
PARTS = {
    "links-and-sales": (("wang.fang", "lucy", "zhao.min", "li.qiang", "liu.yang"), "zh", True),
    "office-and-floor": (("admin", "zhang.wei", "chen.jing", "sun.lei", "zhou.jie", "wu.ting", "huang.xm",
                          "lin.dw", "ma.driver"), "zh", False),
    "english": (ENGLISH_PEOPLE, "en", False),
}


def test_the_parts_cover_every_demo_person():
    """No demo person is left out of the crawl's parts (in Chinese)."""
    chinese = {person for people, locale, _ in PARTS.values() if locale == "zh" for person in people}
    assert chinese == set(DEMO_PEOPLE)


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_no_page_scrolls_sideways_on_a_phone(browser, demo_server, part):
    """Every demo person's pages in Chinese, a few people's in English, and the customer links on a
    phone that never logged in, in both languages: none is wider than 390 px."""
    app, base = demo_server
    people, locale, with_links = PARTS[part]
    started = time.monotonic()
    problems, links, visited = visit_as_people(browser, app, base, people, locale)
    if with_links:
        assert links, "no customer link was reachable from the staff pages"
        for language in ("zh-CN", "en-GB"):
            context = browser.new_context(**CRAWL_PHONE, locale=language)
            try:
                page = context.new_page()
                requests = OpenRequests(page)
                problems += too_wide(page, base, sorted(links), f"customer ({language})")
                visited += len(links)
                requests.wait_until_none()
            finally:
                context.close()
    print(f"{visited} pages at 390 px in {time.monotonic() - started:.0f} s")
    assert visited > 30, f"only {visited} pages were visited: the crawl found too little"
    assert not problems, f"{len(problems)} layout problems at 390 px:\n" + "\n".join(problems)


def phone_as(browser, app, base, username: str, locale: str = "zh"):
    """A phone-sized page logged in as a demo person whose language is locale."""
    set_language(app, username, locale)
    context = browser.new_context(**PHONE, locale="zh-CN" if locale == "zh" else "en-GB")
    page = context.new_page()
    log_in(page, base, username)
    return context, page


def test_the_cost_sheet_is_one_labelled_card_per_category_on_a_phone(browser, demo_server):
    """At 390 px the cost sheet's categories read whole (直接材料, not 直/接/材/料) and every amount,
    the variance rate included, is on screen with its column's name; at 820 px it is a table."""
    app, base = demo_server
    crawler = Crawler(app, demo_login(app, "zhao.min"), origins=(base, "http://localhost"))
    sheets = [p.url for p in crawler.crawl("/") if p.url.startswith("/costing/orders/") and p.status == 200]
    assert sheets, "the manager reaches no cost sheet in the demo firm"
    context, page = phone_as(browser, app, base, "zhao.min")
    try:
        page.goto(base + sheets[0])
        rows = page.locator("main table.stack tbody tr")
        assert rows.count() >= 5
        first = rows.first.locator("td .category").first  # the category's name (its cause may follow)
        assert first.inner_text().strip() == "直接材料"
        line_height = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main table.stack td')).lineHeight)")
        assert first.bounding_box()["height"] < 1.5 * line_height, "the category wraps"
        rate = rows.first.locator("td").nth(4)
        box = rate.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"the variance rate is off screen: {box}"
        label = rate.evaluate("el => getComputedStyle(el, '::before').content")
        assert label == '"差异率"', label
        assert page.locator("main table.stack thead").first.bounding_box()["height"] <= 1  # names are in the cards
        page.set_viewport_size({"width": 820, "height": 1180})
        assert page.locator("main table.stack thead th").first.bounding_box()["height"] > 10
        assert rate.evaluate("el => getComputedStyle(el).display") == "table-cell"
    finally:
        context.close()


def test_the_survey_ratings_are_one_row_of_big_targets_on_a_phone(browser, demo_server):
    """The customer's survey at 390 px: each question's five ratings sit on one row, each a target
    of at least 44 × 44 px, and tapping the tile (not the small circle) chooses the rating."""
    app, base = demo_server
    from webapp.aftersales.models import Survey
    from webapp.aftersales.services import send_survey
    from webapp.extensions import db
    from webapp.links import AccessLink
    from webapp.orders.models import Order
    with app.app_context():
        surveyed = db.select(Survey.order_id)
        order = db.session.scalars(db.select(Order).where(Order.number.is_not(None), Order.id.not_in(surveyed))).first()
        survey = send_survey(order)
        db.session.commit()
        path = "/c/" + db.session.get(AccessLink, survey.link_id).token
    for language in ("zh-CN", "en-GB"):
        context = browser.new_context(**PHONE, locale=language)
        try:
            page = context.new_page()
            page.goto(base + path)
            groups = page.locator("main ul.rating")
            assert groups.count() == 3
            for index in range(3):
                tiles = [groups.nth(index).locator("label").nth(n).bounding_box() for n in range(5)]
                assert len({round(t["y"]) for t in tiles}) == 1, f"not one row: {tiles}"
                assert all(t["width"] >= 44 and t["height"] >= 44 for t in tiles), tiles
                assert tiles[-1]["x"] + tiles[-1]["width"] <= 390
            tile = groups.first.locator("label").nth(3)
            box = tile.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 6)  # below the circle
            assert tile.locator("input").is_checked()
            assert page.evaluate(WIDEST) is None
        finally:
            context.close()
