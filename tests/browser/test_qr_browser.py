"""QR codes as Chromium draws them: each page that shows one is screenshotted (phone, desktop,
print) and the screenshot decoded with zbar. The work-order label once showed no code at all (an
<svg:svg> nested in an inline SVG, which HTML does not draw) and a clipped number."""
import subprocess

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.production.models import WorkOrder
from webapp.shipping.models import Shipment

from ..conftest import PASSWORD
from ..test_shipping import new_shipment
from .conftest import SCREENSHOTS

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1, "is_mobile": False,
           "has_touch": False}
PHONE_ZH = {"locale": "zh-CN"}


def zbar(path) -> str:
    """What zbar reads off an image ('' for nothing)."""
    return subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(path)], capture_output=True, text=True,
                          timeout=60).stdout.strip()


def log_in(page, base: str, username: str) -> None:
    """Log in through the login form (in whatever language the page is)."""
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name: str):
    """A screenshot of what is on screen (the page's top), kept for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), caret="initial")
    return path


def assert_whole(page, selector: str, text: str) -> None:
    """The element shows all of text, inside its box and inside the window (nothing clipped)."""
    box = page.evaluate("""sel => {
        const e = document.querySelector(sel), svg = e.ownerSVGElement;
        const r = e.getBoundingClientRect(), outer = (svg || e.parentElement).getBoundingClientRect();
        return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                oLeft: outer.left, oRight: outer.right, oTop: outer.top, oBottom: outer.bottom,
                scroll: svg ? 0 : e.scrollWidth - e.clientWidth, width: document.documentElement.clientWidth};
    }""", selector)
    assert box["text"] == text, box
    assert box["right"] > box["left"] + 20, box  # drawn, not collapsed
    assert box["oLeft"] - 0.5 <= box["left"] and box["right"] <= box["oRight"] + 0.5, f"clipped sideways: {box}"
    assert box["oTop"] - 0.5 <= box["top"] and box["bottom"] <= box["oBottom"] + 0.5, f"clipped: {box}"
    assert 0 <= box["left"] and box["right"] <= box["width"], f"outside the window: {box}"
    assert box["scroll"] <= 0, box


@pytest.fixture
def context_as(browser, browser_context_args, browser_problems):
    """A watched context with some of the phone's settings replaced: context_as(locale="zh-CN")."""
    made = []

    def make(**overrides):
        made.append(browser_problems.watch(browser.new_context(**{**browser_context_args, **overrides})))
        return made[-1]
    yield make
    for context in made:
        context.close()


@pytest.fixture
def long_work_order(app, make_order):
    """A released order of a customer with the longest abbreviation (8): the longest numbers."""
    order_id = make_order("in_production", customer="HDJMWXYZ")
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        return row.id, row.token, row.number


@pytest.mark.parametrize("where", ["phone", "desktop", "print"])
def test_work_order_label_shows_a_scannable_qr_and_the_whole_number(app, live_server, context_as,
                                                                    browser_problems, long_work_order,
                                                                    make_user, where):
    """The label page on a phone (zh), a desktop and in print: zbar reads the worker page's absolute
    URL off the screenshot, and the full work-order number is drawn inside the label."""
    wo_id, token, number = long_work_order
    assert len(number) >= 23, number  # 202611-HDJMWXYZ-001-W01
    make_user("production", username="zhou.sup")
    context = context_as(**(DESKTOP if where == "desktop" else PHONE_ZH))
    page = context.new_page()
    log_in(page, live_server, "zhou.sup")
    page.goto(f"{live_server}/production/wo/{wo_id}/label")
    if where == "print":
        page.emulate_media(media="print")
    label = page.locator(".label-sheet svg")
    expect(label).to_be_visible()
    path = shot(page, f"label-{where}")
    assert zbar(path) == f"{live_server}/w/{token}", f"zbar read nothing usable off {path}"
    assert_whole(page, ".label-sheet svg text.number", number)
    if where == "print":  # printed at the label's real size
        assert abs(label.bounding_box()["width"] - 70 / 25.4 * 96) < 2
    browser_problems.check(page)


def test_badge_and_courier_link_qrs_scan(app, live_server, context_as, browser_problems, make_order, make_user):
    """The other QR pages: a worker's badge (an inline SVG) and the courier's code on the shipment
    page (an <img> of an SVG) decode to the URL the page shows."""
    from webapp.orders.models import OrderLine
    make_user("admin", username="admin.li")
    worker_id = make_user("worker", username="wang.gong", name="王工")
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = app.test_client()
    from ..conftest import login
    make_user("warehouse", username="cang.ku")
    login(warehouse, "cang.ku")
    assert new_shipment(warehouse, order_id, line_id, "60").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))

    page = context_as(**PHONE_ZH).new_page()
    log_in(page, live_server, "admin.li")
    page.goto(f"{live_server}/admin/users/{worker_id}")
    page.locator(f"form[action$='/users/{worker_id}/badge'] button").click()
    expect(page.locator(".badge-card svg")).to_be_visible()
    shown = page.locator(".badge-card small").inner_text()
    assert shown.startswith(live_server + "/")
    assert zbar(shot(page, "badge-phone")) == shown

    office = context_as(**PHONE_ZH).new_page()
    log_in(office, live_server, "cang.ku")
    office.goto(f"{live_server}/shipping/{shipment_id}")
    box = office.locator("section.linkbox").first
    box.scroll_into_view_if_needed()
    expect(box.locator("img.qr")).to_be_visible()
    url = box.locator("input.copy").input_value()
    path = SCREENSHOTS / "courier-link-qr-phone.png"
    box.screenshot(path=str(path))
    assert zbar(path) == url and url.startswith(live_server + "/c/")
    browser_problems.check(office)
