"""Call with one tap, in a real Chromium on a 390×844 phone in Chinese: the courier's page has the
receiver's phone as a big tel: button and the address as map links while the shipment is on its way,
and none of it once the customer has signed; the customer page has the contact's phone as a tel: link."""
from decimal import Decimal
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from webapp import links
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.shipping import services as shipping
from webapp.shipping.models import Shipment

from ..helpers import SIGNATURE
from .test_order_desk_browser import settle

PHONE = "+86 138-0013 8000"
ADDRESS = "上海市浦东新区张江路 88 号 3 号门"
ZH = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}


def assert_fits(page) -> None:
    """Nothing drags the page sideways at 390 px."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


@pytest.fixture
def phone_zh(browser, browser_context_args, browser_problems):
    """A watched 390×844 phone context in Chinese: phone_zh()."""
    made = []

    def make():
        made.append(browser_problems.watch(browser.new_context(**{**browser_context_args, **ZH})))
        return made[-1]
    yield make
    for context in made:
        context.close()


def test_courier_and_customer_pages_call_with_one_tap(live_server, phone_zh, shoot, app,
                                                      make_order, make_customer, make_user, make_product):
    base = live_server
    customer_id = make_customer("TAP", locale="zh")
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        customer.name, customer.contact_name, customer.contact_phone = "上海北风贸易有限公司", "王经理", PHONE
        customer.address, customer.tax_id, customer.contact_wechat = ADDRESS, "91310000MA1FL8XQ3K", "wang_nwt"
        db.session.commit()
    order_id = make_order("ready_to_ship", customer="TAP")
    warehouse_id = make_user("warehouse", username="wanda")
    make_user("sales", username="sally", name="Sally", locale="zh")
    with app.app_context(), app.test_request_context("/", method="POST", base_url=base):
        order = db.session.get(Order, order_id)
        warehouse = db.session.get(User, warehouse_id)
        line = order.lines[0]
        shipment = shipping.create_shipment(order, warehouse, {line.id: Decimal("100")}, {line.id: "B-1"},
                                            "delivery", "SF", "SF1", None, Decimal("80"))
        for sline in shipment.lines:
            shipping.check_line(shipment, sline, "B-1", warehouse)
        shipping.pack(shipment, warehouse)
        shipment_id = shipment.id
        courier_path = "/c/" + links.current("courier", shipment_id).token
        db.session.commit()

    # --- the courier's phone, never logged in --------------------------------------------------
    courier = phone_zh()
    page = courier.new_page()
    page.goto(base + courier_path)
    contact = page.locator("section.contact")
    expect(contact.get_by_role("heading", name="收货联系人")).to_be_visible()
    expect(contact).to_contain_text("王经理")
    call = contact.locator('a[href^="tel:"]')
    expect(call).to_have_count(1)
    expect(call).to_have_attribute("href", "tel:+8613800138000")
    expect(call).to_contain_text("拨打")
    box = call.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300, box  # a thumb-sized button across the screen
    expect(contact.locator('a[href^="geo:"]')).to_have_attribute("href", "geo:0,0?q=" + quote(ADDRESS, safe=""))
    expect(contact.locator('a[href^="https://maps.apple.com/"]')).to_have_attribute(
        "href", "https://maps.apple.com/?q=" + quote(ADDRESS, safe=""))
    expect(contact.get_by_role("link", name="在地图应用中打开")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("¥")  # nothing about money
    expect(page.locator("body")).not_to_contain_text("91310000MA1FL8XQ3K")  # nor the customer's other records
    assert_fits(page)
    shoot(page, "contacts-courier-packed-zh")

    # picked up and signed for (through the services, as the courier's and customer's forms do)
    with app.app_context(), app.test_request_context("/", method="POST", base_url=base):
        shipment = db.session.get(Shipment, shipment_id)
        shipping.dispatch(shipment, [], "", user=db.session.get(User, warehouse_id))
        db.session.commit()
    page.reload()
    expect(page.locator('section.contact a[href^="tel:"]')).to_have_attribute("href", "tel:+8613800138000")
    with app.app_context():
        sline_id = db.session.get(Shipment, shipment_id).lines[0].id
    signed = app.test_client().post(courier_path + "/receipt", data={
        f"line-{sline_id}-qty": "100", f"line-{sline_id}-condition": "ok", "name": "王经理", "consent": "y",
        "strokes": SIGNATURE})
    assert signed.status_code == 200, signed.get_data(as_text=True)[:500]
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("已签收")
    expect(page.locator('a[href^="tel:"]')).to_have_count(0)
    expect(page.locator('a[href^="geo:"], a[href^="https://maps.apple.com/"]')).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("王经理")
    expect(page.locator("body")).not_to_contain_text("张江路")
    shoot(page, "contacts-courier-delivered-zh")

    # --- the customer page, in the office ------------------------------------------------------
    office = phone_zh().new_page()
    office.goto(base + "/login")
    office.locator("input[name=username]").fill("sally")
    office.locator("input[name=password]").fill(PASSWORD)
    office.locator("input[name=password]").press("Enter")
    expect(office.locator("h1")).to_be_visible()
    office.goto(base + "/customers/")
    # The row opens the customer page (one customer whole); its record is one tap below the name.
    office.get_by_role("link", name="上海北风贸易有限公司").click()
    expect(office.locator("h1")).to_contain_text("上海北风贸易有限公司")
    office.goto(base + "/customers/")
    office.get_by_role("link", name="联系人与开票信息").click()
    expect(office.locator("h1")).to_contain_text("上海北风贸易有限公司")
    expect(office.locator('a.tel[href^="tel:"]')).to_have_attribute("href", "tel:+8613800138000")
    expect(office.locator("body")).to_contain_text("91310000MA1FL8XQ3K")
    expect(office.locator("body")).to_contain_text("wang_nwt")
    assert_fits(office)
    shoot(office, "contacts-customer-zh")
    office.get_by_role("link", name="编辑").click()
    expect(office.get_by_label("税号（统一社会信用代码）")).to_have_value("91310000MA1FL8XQ3K")
    settle(office)
    assert_fits(office)
    shoot(office, "contacts-customer-edit-zh")

    # --- picking a catalogue product on a requirement fills its product and unit (htmx) -------------
    with app.app_context():
        from webapp.production.models import Product
        product = db.session.get(Product, make_product("CAB-1"))
        product.name, product.unit = "橡木柜 Oak cabinet", "套"
        db.session.commit()
    office.goto(base + "/requirements/new")
    office.locator("input[name=quantity]").fill("2,000")
    office.locator("select[name=product_id]").select_option(label="CAB-1 · 橡木柜 Oak cabinet")
    expect(office.locator("input[name=product]")).to_have_value("橡木柜 Oak cabinet")
    expect(office.locator("input[name=unit]")).to_have_value("套")
    expect(office.locator("input[name=quantity]")).to_have_value("2,000")
    assert_fits(office)
    shoot(office, "contacts-requirement-picked-zh")
