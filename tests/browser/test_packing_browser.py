"""Packing by counted scans in a real Chromium at tablet width (820×1180): the fake camera shows a
Y4M of carton labels in turn — two cartons of lot L-A and one of lot L-C, which this shipment did not
take from stock. The two count (their lines' rows say so), the wrong lot is refused with a visible
message and counts nothing; a typed carton code counts like a scanned one. Then the shipment page,
the delivery note (its QR decoded from the screenshot) and the scanner, in Chinese, as drawn."""
import subprocess
from decimal import Decimal

from PIL import Image
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.shipping.packing_models import PackScan

from ..test_packing import cartons, new_shipment, receive_lots, stock_order
from .conftest import TABLET
from .test_field_browser import assert_fits
from .test_order_desk_browser import log_in, settle
from .test_qr_browser import context_as  # noqa: F401 -- fixture
from .test_scanner_browser import DECODE_TIMEOUT, FPS, HEIGHT, WIDTH, camera, qr_frame  # noqa: F401 -- fixture


def counted(app, shipment_id) -> dict:
    """{lot code: quantity} counted for the shipment, from the database."""
    with app.app_context():
        out = {}
        for scan in db.session.scalars(db.select(PackScan).where(PackScan.shipment_id == shipment_id)):
            out[scan.lot.code] = out.get(scan.lot.code, Decimal("0")) + scan.quantity
        return out


def refused_scans_logged(browser_problems) -> None:
    """Chromium logs each 4xx answer to the scanner's fetch as a console error; the refusals (a wrong lot,
    a label seen again when the camera's video loops) are 409 by design: take exactly those off the list."""
    browser_problems.items[:] = [item for item in browser_problems.items
                                 if not (item.startswith("console.error") and "status of 409" in item)]


def test_packing_cartons_through_the_camera_with_a_wrong_lot(app, live_server, camera, browser_problems, shoot,
                                                             make_order, make_product, make_user, tmp_path):
    """The tablet's camera reads each carton label once it comes into view: two of lot L-A count
    100 each, the one of lot L-C is refused with "Wrong lot" in red and counts nothing; typing the
    third L-A carton's code counts it too."""
    order_id, product_id = stock_order(app, make_order, make_product)
    receive_lots(app, product_id, {"L-A": ("300", "available"), "L-B": ("250", "available"),
                                   "L-C": ("80", "available")})
    make_user("warehouse", username="wanda", name="Wanda Warehouse")
    from ..conftest import login
    client = app.test_client()
    login(client, "wanda")
    shipment_id = new_shipment(app, client, order_id)
    good = cartons(app, order_id, product_id, "L-A", "100", 3)
    wrong = cartons(app, order_id, product_id, "L-C", "50", 1)[0]
    nothing = Image.new("RGB", (WIDTH, HEIGHT), "white")
    frames = []
    for url in (good[0], wrong, good[1]):
        frames += [qr_frame(url)] * FPS + [nothing] * (3 * FPS)  # a label for a second, then out of sight
    page = camera(frames).new_page()
    page.set_viewport_size(TABLET)
    log_in(page, live_server, "wanda")
    page.goto(f"{live_server}/scan?shipment={shipment_id}")
    row = page.locator(".scan-lines li").first
    expect(row.locator(".line-state")).to_have_text("200 of 400 counted", timeout=DECODE_TIMEOUT)
    expect(row).to_have_class("counting")
    bad = page.locator("#scan-results li.bad", has_text="Wrong lot")
    expect(bad.first).to_contain_text("Wrong lot: lot L-C is not in the stock taken for this shipment (lots L-A, L-B).",
                                      timeout=DECODE_TIMEOUT)
    expect(page.locator("#scan-results li.ok", has_text="lot L-A")).to_have_count(2)
    assert counted(app, shipment_id) == {"L-A": Decimal("200")}
    # A torn label: its code typed (or pasted from the label's text) counts the same.
    page.get_by_label("Code or link").fill(good[2])
    page.get_by_role("button", name="Look up").click()
    expect(row.locator(".line-state")).to_have_text("300 of 400 counted")
    expect(page.get_by_label("Code or link")).to_have_value("")
    assert counted(app, shipment_id) == {"L-A": Decimal("300")}
    settle(page)
    assert_fits(page)
    shoot(page, "packing-01-scanner-tablet")
    refused_scans_logged(browser_problems)
    browser_problems.check(page)


def test_shipment_page_and_delivery_note_in_chinese(app, live_server, context_as, browser_problems, shoot,
                                                    make_order, make_product, make_user, tmp_path):
    """The shipment page with cartons and documents, and the 送货单 at phone width in Chinese: nothing
    scrolls sideways, and the note's QR, screenshotted, decodes to the shipment's courier link."""
    order_id, product_id = stock_order(app, make_order, make_product)
    receive_lots(app, product_id, {"L-A": ("300", "available"), "L-B": ("250", "available")})
    make_user("warehouse", username="wanda", name="王仓管")
    with app.app_context():
        from webapp.firm import get_settings
        settings = get_settings()
        settings.firm_name, settings.firm_address, settings.firm_phone = ("演示制造有限公司", "江苏省苏州市工业园区星湖街 328 号",
                                                                          "0512-6288 1000")
        db.session.commit()
    from ..conftest import login
    client = app.test_client()
    login(client, "wanda")
    shipment_id = new_shipment(app, client, order_id)
    for url in cartons(app, order_id, product_id, "L-A", "100", 3):
        client.post("/scan/resolve", data={"code": url, "shipment": str(shipment_id)})
    page = context_as(locale="zh-CN").new_page()
    log_in_zh(page, live_server, "wanda")
    page.goto(f"{live_server}/shipping/{shipment_id}")
    expect(page.get_by_role("heading", name="箱子")).to_be_visible()
    expect(page.get_by_text("已点 300 / 400").first).to_be_visible()
    settle(page)
    assert_fits(page)
    shoot(page, "packing-02-shipment-phone-zh")
    page.goto(f"{live_server}/shipping/{shipment_id}/delivery-note")
    expect(page.get_by_role("heading", level=1)).to_contain_text("送货单")
    expect(page.get_by_text("江苏省苏州市工业园区星湖街 328 号")).to_be_visible()
    code = page.locator(".note-codes svg").first
    code.screenshot(path=str(tmp_path / "note-qr.png"))
    decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(tmp_path / "note-qr.png")],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    assert decoded.startswith(f"{live_server}/c/")
    settle(page)
    assert_fits(page)
    shoot(page, "packing-03-delivery-note-phone-zh")
    page.set_viewport_size(TABLET)
    page.goto(f"{live_server}/scan?shipment={shipment_id}")
    expect(page.locator(".scan-lines li .line-state").first).to_have_text("已点 300 / 400")
    settle(page)
    assert_fits(page)
    shoot(page, "packing-04-scanner-tablet-zh")
    browser_problems.check(page)


def log_in_zh(page, base: str, username: str) -> None:
    """Log in through the login form in Chinese."""
    from ..conftest import PASSWORD
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我的待办", level=1)).to_be_visible()
