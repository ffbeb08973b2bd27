"""The customer's order page in a real Chromium at phone width, in Chinese: an order followed from
production to delivered (the step line moves; the shipment's failed attempt shows with its reason),
signed for from the page, and the signed receipt downloaded as a PDF and read back. The courier's
failed attempt is tapped on the courier's page in the same browser."""
from pathlib import Path

from playwright.sync_api import expect

from tests.helpers import customer_path, make_and_pass_qc
from tests.test_pdf_copies import assert_fonts_embedded, pdf_text
from tests.test_shipping import new_shipment, packed

from .test_order_desk_browser import assert_fits, draw_signature


def test_the_customer_follows_the_order_to_delivered_and_downloads_the_receipt(
        live_server, browser, browser_context_args, browser_problems, shoot, app, make_order, make_customer,
        make_user, as_user, tmp_path):
    """In production → inspected → on the way (with a failed attempt the courier taps) → signed →
    delivered, on one link, with the signed receipt's PDF."""
    from webapp.extensions import db
    from webapp.orders.models import OrderLine
    from webapp.shipping.models import Shipment
    make_customer("HDJM", name="华东精密机械有限公司", locale="zh")
    order_id = make_order("in_production", customer="HDJM", quantity="2400")
    link = live_server + customer_path(app, "order_service", order_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN",
                                                            "accept_downloads": True}))
    page = context.new_page()
    page.goto(link)
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("生产中")
    expect(page.locator(".step-detail")).to_contain_text("已完成 0%")
    assert_fits(page)
    shoot(page, "phone-zh-tracking-in-production")

    make_and_pass_qc(app, order_id, make_user("production"), make_user("qc"))
    page.reload()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("已检验")

    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "2400").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)

    courier = context.new_page()
    courier.goto(live_server + customer_path(app, "courier", shipment_id))
    courier.get_by_role("button", name="确认提货并发出").click()
    expect(courier.get_by_text("派送失败").first).to_be_visible(timeout=20000)
    courier.get_by_label("地点（选填）").fill("上海浦东分拨中心")
    courier.get_by_role("button", name="运输中").click()  # the pressed button says what happened
    expect(courier.locator(".transit")).to_contain_text("上海浦东分拨中心", timeout=20000)
    courier.locator("summary", has_text="派送失败").click()
    courier.get_by_label("失败原因").select_option("nobody_home")
    courier.get_by_role("button", name="记录派送失败").click()
    expect(courier.locator(".transit")).to_contain_text("无人收货", timeout=20000)
    assert_fits(courier)
    shoot(courier, "phone-zh-courier-failed-attempt")
    courier.close()

    page.reload()
    expect(page.locator(".steps [aria-current=step]")).to_contain_text("运输中")
    expect(page.locator(".transit")).to_contain_text("派送失败：无人收货")
    expect(page.locator(".transit li")).to_have_count(2)  # the failed attempt on top, then in transit
    assert_fits(page)
    shoot(page, "phone-zh-tracking-on-the-way")
    page.get_by_role("link", name="已到货：验货并签收").click()
    page.locator("input[name=name]").fill("李静")
    draw_signature(page)
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.locator("#sign-form button[type=submit]").click()
    expect(page.get_by_role("link", name="下载您签署的副本（PDF）")).to_be_visible(timeout=20000)

    page.goto(link)
    expect(page.locator(".steps li").nth(5)).to_have_attribute("aria-current", "step")  # delivered
    button = page.get_by_role("link", name="签收单（PDF）")
    expect(button).to_be_visible()
    assert_fits(page)
    shoot(page, "phone-zh-tracking-delivered")
    with page.expect_download() as download_info:
        button.click()
    saved = Path(tmp_path) / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    text = pdf_text(saved.read_bytes())
    assert "2,400" in text and "李静" in text
    assert_fonts_embedded(saved.read_bytes())
    browser_problems.check(page)
    context.close()


def test_the_order_confirmation_prints_the_tracking_qr(live_server, browser, browser_context_args,
                                                     browser_problems, app, make_order, make_user):
    """The printed confirmation's QR, as Chromium draws it, decodes (zbar) to the customer's order page."""
    from .test_qr_browser import DESKTOP, log_in, zbar
    order_id = make_order("effective")
    make_user("sales", "manager", username="qr-sales")
    link = live_server + customer_path(app, "order_service", order_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, **DESKTOP}))
    page = context.new_page()
    log_in(page, live_server, "qr-sales")
    page.goto(f"{live_server}/orders/{order_id}/confirmation")
    qr = page.locator("#tracking-qr svg")
    expect(qr).to_be_visible()
    qr.scroll_into_view_if_needed()
    from .conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "confirmation-tracking-qr.png"
    page.locator("#tracking-qr").screenshot(path=str(path))
    assert zbar(path) == link
    browser_problems.check(page)
    context.close()
