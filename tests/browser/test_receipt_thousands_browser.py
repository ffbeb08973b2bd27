"""A receipt of 2,000 pieces signed in Chromium on a phone in Chinese: the customer leaves the
pre-filled quantity and signs. It was once pre-filled "2,000", read as 2 and a shortfall of 1,998
opened a return case."""
import time

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.shipping.models import DeliveryReceipt, ReceiptLine, ReturnCase, Shipment

from ..conftest import login
from ..test_shipping import link_path, new_shipment, packed
from .test_order_desk_browser import draw_signature


def test_customer_signs_for_2000_pieces_on_a_chinese_phone(app, live_server, browser, browser_context_args,
                                                           browser_problems, make_order, make_user, shoot):
    order_id = make_order("ready_to_ship", quantity="2000")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    make_user("warehouse", username="cang.ku")
    warehouse = app.test_client()
    login(warehouse, "cang.ku")
    assert new_shipment(warehouse, order_id, line_id, "2,000").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    packed(app, warehouse, shipment_id)
    assert app.test_client().post(link_path(app, "courier", shipment_id) + "/dispatch",
                                  data={"d-note": ""}).status_code == 303

    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(live_server + link_path(app, "delivery_receipt", shipment_id) + "/receipt")
        expect(page.locator("h1")).to_contain_text("签收")
        quantity = page.locator("input[name$='-qty']")
        expect(quantity).to_have_value("2000")  # pre-filled without grouping
        assert quantity.get_attribute("inputmode") == "decimal" and quantity.get_attribute("type") == "text"
        expect(page.locator("legend")).to_contain_text("2,000")  # shown grouped where it is read, not typed
        page.locator("input[name=name]").fill("王芳")
        page.locator("input[name=relation]").fill("仓库收货员")
        draw_signature(page)
        page.locator("#sign-form input[type=checkbox][name=consent]").check()
        shoot(page, "receipt-zh-2000-signed")
        page.locator("#sign-form button[type=submit]").click()
        expect(page.get_by_role("heading", name="谢谢")).to_be_visible()
        for _ in range(400):  # what reached the server, from the database
            with app.app_context():
                if db.session.scalar(db.select(DeliveryReceipt.id)):
                    break
            time.sleep(0.05)
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        assert db.session.scalar(db.select(ReceiptLine.received_qty)) == 2000
        assert db.session.scalar(db.select(db.func.count()).select_from(ReturnCase)) == 0
        assert db.session.get(Shipment, shipment_id).status == "delivered"
