"""Issue 9: call with one tap (the courier's delivery contact, tel: links on the follow-up and customer
pages), a requirement's product, part number and drawing revision carried into the order line, and the
customer's invoicing fields (税号, 发票抬头, 开户银行, 银行账号) and WeChat ID."""
import re
from decimal import Decimal
from urllib.parse import unquote

import pytest

from webapp.contacts import map_links, tel_href
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.requirements.models import Requirement
from webapp.shipping.models import Shipment, ShipmentLine

from .helpers import SIGNATURE, error_of, get, id_from_location, requirement_form, text_of
from .test_shipping import link_path, new_shipment, packed

DATABASES = [pytest.param("sqlite", id="sqlite"),
             pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
ADDRESS = "上海市浦东新区 张江路 88 号\n3 号门"
PHONE = "+86 138-0013 8000"


# --- phone and map links -------------------------------------------------------------------------

@pytest.mark.parametrize("typed, href", [
    ("+86 138-0013 8000", "tel:+8613800138000"),
    ("(021) 6688.1234", "tel:02166881234"),
    ("０２１－６６８８１２３４", "tel:02166881234"),  # full-width digits from a Chinese IME
    ("call Li", ""), ("", ""), (None, ""), ("+", ""),
])
def test_tel_href_keeps_plus_and_digits(typed, href):
    """The href dials exactly the digits (and a leading +) of the number as typed."""
    assert tel_href(typed) == href


def test_map_links_encode_the_address_on_one_line():
    """geo: for Android's map apps, Apple Maps for iPhones; the address URL-encoded, newlines as spaces."""
    links = map_links(ADDRESS)
    assert links["geo"].startswith("geo:0,0?q=") and links["apple"].startswith("https://maps.apple.com/?q=")
    for url in links.values():
        assert " " not in url and "\n" not in url
        assert unquote(url.split("q=", 1)[1]) == "上海市浦东新区 张江路 88 号 3 号门"
    assert map_links("  \n ") == {}


# --- the courier's page ----------------------------------------------------------------------------

def customer_with(app, make_customer, abbreviation, **fields) -> int:
    """A customer with these contact fields (the factory sets its own contact name and e-mail)."""
    customer_id = make_customer(abbreviation)
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        for name, value in fields.items():
            setattr(customer, name, value)
        db.session.commit()
    return customer_id


@pytest.fixture
def packed_delivery(app, make_order, make_customer, as_user):
    """A packed delivery of an order whose customer has a contact, a phone and an address."""
    customer_with(app, make_customer, "TAP", contact_name="王经理", contact_phone=PHONE, address=ADDRESS,
                  contact_email="wang@tap.example.com")
    order_id = make_order("ready_to_ship", customer="TAP")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "100").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)
    return order_id, shipment_id, warehouse


def hrefs(page: str) -> list[str]:
    """Every href on the page, unescaped."""
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*)"', page)]


def test_courier_sees_the_delivery_contact_until_delivery(app, packed_delivery):
    """Packed and on the way: the receiver's name, a tel: link and map links to the delivery address;
    no prices, no e-mail, no other order. Once the customer has signed, none of it is shown."""
    order_id, shipment_id, warehouse = packed_delivery
    courier = app.test_client()
    path = link_path(app, "courier", shipment_id)
    for step in ("packed", "dispatched"):
        page = text_of(courier.get(path))
        links = hrefs(page)
        assert "王经理" in page, step
        assert "tel:+8613800138000" in links, step
        geo = next(h for h in links if h.startswith("geo:"))
        apple = next(h for h in links if h.startswith("https://maps.apple.com/"))
        assert unquote(geo.split("q=", 1)[1]) == unquote(apple.split("q=", 1)[1]) == "上海市浦东新区 张江路 88 号 3 号门"
        assert "¥" not in page and "wang@tap" not in page and "ORD" not in page, step
        if step == "packed":
            assert courier.post(path + "/dispatch", data={"d-note": "picked up"}).status_code == 303
    with app.app_context():
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))
    signed = courier.post(path + "/receipt", data={f"line-{sline.id}-qty": "100", f"line-{sline.id}-condition": "ok",
                                                   "name": "王经理", "consent": "y", "strokes": SIGNATURE})
    assert signed.status_code == 200
    assert get(app, Shipment, shipment_id).status == "delivered"
    page = text_of(courier.get(path))
    assert "tel:" not in page and "geo:" not in page and "maps.apple.com" not in page
    assert "王经理" not in page and "张江路" not in page


def test_courier_calls_the_requirement_contact_and_goes_to_the_delivery_place(app, packed_delivery, make_user):
    """The person named (with a phone) on the order's requirement is the one to call; the order's own
    delivery place wins over the customer's address."""
    order_id, shipment_id, _ = packed_delivery
    with app.app_context():
        order = db.session.get(Order, order_id)
        requirement = Requirement(customer_id=order.customer_id, product="Bracket", quantity=Decimal("100"),
                                  contact_name="Site lead Zhou", contact_phone="139 0000 1111",
                                  sales_rep_id=order.sales_rep_id, status="confirmed")
        db.session.add(requirement)
        order.requirement = requirement
        order.delivery_place = "Warehouse 7, Kunshan"
        db.session.commit()
    page = text_of(app.test_client().get(link_path(app, "courier", shipment_id)))
    assert "Site lead Zhou" in page and "tel:13900001111" in page and "Kunshan" in page and "张江路" not in page


def test_pickup_shows_the_courier_no_contact(app, make_order, make_customer, as_user):
    """A pickup has no delivery to make, so the courier is shown no phone and no address."""
    customer_with(app, make_customer, "PIK", contact_name="Ann", contact_phone=PHONE, address=ADDRESS)
    order_id = make_order("ready_to_ship", customer="PIK")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "100", method="pickup").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)
    page = text_of(app.test_client().get(link_path(app, "courier", shipment_id)))
    assert "tel:" not in page and "geo:" not in page


# --- the follow-up page and the customer page ------------------------------------------------------

def test_follow_up_page_has_the_contacts_phone_as_a_tel_link(app, make_order, make_customer, as_user):
    """The after-sales page of an order shows whom to call, the phone a tel: link."""
    customer_with(app, make_customer, "FUP", contact_name="Ms Lin", contact_phone="+86 (21) 5555-0101",
                  contact_wechat="lin_buyer")
    order_id = make_order("effective", customer="FUP")
    page = text_of(as_user("aftersales").get(f"/aftersales/orders/{order_id}"))
    assert 'href="tel:+862155550101"' in page and "Ms Lin" in page and "lin_buyer" in page


CUSTOMER_FIELDS = {
    "name": "North Wind Trading", "abbreviation": "NWT", "contact_name": "Zhou", "contact_phone": "021-6688 1234",
    "contact_email": "zhou@nwt.example.com", "contact_wechat": "zhou_nwt", "address": "Shanghai",
    "locale": "zh", "currency": "CNY", "prepayment_pct": "30", "credit_days": "30", "quality_standard": "",
    "tax_id": "9131 0000-ma1fl8xq3k", "invoice_title": "上海北风贸易有限公司", "bank_name": "中国工商银行上海张江支行",
    "bank_account": "1001 2345 6789 0123 456",
}


def test_customer_invoicing_fields_are_saved_and_shown_with_a_tel_link(app, as_user):
    """The tax ID is taken however it is grouped or cased (stored as 18 capitals); the customer page
    shows the invoicing details, the WeChat ID and the phone as a tel: link."""
    sales = as_user("sales")
    response = sales.post("/customers/new", data=CUSTOMER_FIELDS)
    assert response.status_code == 303
    customer_id = id_from_location(response)
    customer = get(app, Customer, customer_id)
    assert customer.tax_id == "91310000MA1FL8XQ3K"
    assert (customer.invoice_title, customer.bank_name, customer.bank_account, customer.contact_wechat) == (
        "上海北风贸易有限公司", "中国工商银行上海张江支行", "1001 2345 6789 0123 456", "zhou_nwt")
    page = text_of(sales.get(f"/customers/{customer_id}"))
    for shown in ("91310000MA1FL8XQ3K", "上海北风贸易有限公司", "中国工商银行上海张江支行", "1001 2345 6789 0123 456",
                  "zhou_nwt", 'href="tel:02166881234"'):
        assert shown in page, shown
    assert f'href="/customers/{customer_id}"' in text_of(sales.get("/customers/"))
    # office staff who may not edit customers still see the page, without the edit button
    other = text_of(as_user("finance").get(f"/customers/{customer_id}"))
    assert 'href="tel:02166881234"' in other and f"/customers/{customer_id}/edit" not in other


@pytest.mark.parametrize("field, typed, message", [
    ("tax_id", "91310000MA1FL8", "15 to 20"),  # 14: too short
    ("tax_id", "91310000MA1FL8XQ3K12345", "15 to 20"),  # 23: too long
    ("tax_id", "9131000０MA1FL8XQ3Ｋ!", "15 to 20"),
    ("bank_account", "1001/2345", "Digits"),
])
def test_bad_invoicing_fields_are_refused_with_what_was_typed(app, as_user, field, typed, message):
    """A malformed code is refused (422) under its field, what was typed is shown back, nothing is stored."""
    response = as_user("sales").post("/customers/new", data={**CUSTOMER_FIELDS, field: typed})
    assert response.status_code == 422
    assert message in error_of(text_of(response), field)
    assert 'value="上海北风贸易有限公司"' in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 0


@pytest.mark.parametrize("app", DATABASES, indirect=True)
def test_hostile_invoicing_fields_on_both_databases(app, as_user):
    """NUL bytes are dropped and the rest stored as typed; a megabyte in any new field is a 422 with
    the form shown back, and the customer keeps what it had (SQLite and PostgreSQL)."""
    sales = as_user("sales")
    nul = {"tax_id": "91310000\x00MA1FL8XQ3K", "invoice_title": "北风\x00贸易", "bank_name": "工商\x00银行",
           "bank_account": "1001\x002345", "contact_wechat": "zhou\x00_nwt"}
    response = sales.post("/customers/new", data={**CUSTOMER_FIELDS, **nul})
    assert response.status_code == 303
    customer_id = id_from_location(response)
    customer = get(app, Customer, customer_id)
    assert (customer.tax_id, customer.invoice_title, customer.bank_name, customer.bank_account,
            customer.contact_wechat) == ("91310000MA1FL8XQ3K", "北风贸易", "工商银行", "10012345", "zhou_nwt")
    for field in ("tax_id", "invoice_title", "bank_name", "bank_account", "contact_wechat"):
        response = sales.post(f"/customers/{customer_id}/edit", data={**CUSTOMER_FIELDS, field: "x" * (1 << 20)})
        assert response.status_code == 422, field
        assert error_of(text_of(response), field), field
        assert getattr(get(app, Customer, customer_id), field) == getattr(customer, field), field
    assert "北风贸易" in text_of(sales.get(f"/customers/{customer_id}"))


# --- requirement → order -------------------------------------------------------------------------

def test_requirement_carries_product_specs_part_number_and_drawing_revision_into_the_order(
        app, as_user, make_customer, make_product):
    """A confirmed requirement with a catalogue product becomes an order whose line has the product's
    model and price, the requirement's product and specifications, quantity, customer part number and
    drawing revision; saved as drawn up, the order line keeps them."""
    customer_id = make_customer("REQ")
    product_id = make_product("BRK-9", price="12.50")
    sales = as_user("sales")
    response = sales.post("/requirements/new", data=requirement_form(
        customer_id, product="", product_id=str(product_id), customer_part_no="CUS-4471", drawing_rev="C",
        quantity="2,000"))
    assert response.status_code == 303, error_of(text_of(response), "product")
    req_id = id_from_location(response)
    requirement = get(app, Requirement, req_id)
    # the catalogue product filled the product field and the unit, on the server
    assert (requirement.product, requirement.unit) == ("Product BRK-9", "pcs")
    assert (requirement.customer_part_no, requirement.drawing_rev) == ("CUS-4471", "C")
    assert "CUS-4471" in text_of(sales.get(f"/requirements/{req_id}"))
    with app.app_context():
        db.session.get(Requirement, req_id).status = "confirmed"
        db.session.commit()
    page = text_of(sales.get(f"/orders/new?requirement_id={req_id}"))
    for value in ('value="CUS-4471"', 'value="C"', 'value="BRK-9"', 'value="2000"',
                  'value="Product BRK-9 — 304, 2 mm"', 'value="12.50"'):
        assert value in page, value
    form = {name: value.replace("&#34;", '"') for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    form.update({name: value for name, value in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page)})
    form.update({"customer_id": str(customer_id), "delivery_method": "delivery", "tax_rate": "13"})
    response = sales.post(f"/orders/new?requirement_id={req_id}", data=form)
    assert response.status_code == 303, text_of(response)[:2000]
    with app.app_context():
        line = db.session.scalar(db.select(OrderLine).join(Order).where(Order.requirement_id == req_id))
        assert (line.model, line.customer_part_no, line.drawing_rev, line.description, line.quantity, line.product_id) == (
            "BRK-9", "CUS-4471", "C", "Product BRK-9 — 304, 2 mm", Decimal("2000"), product_id)


def test_specifications_too_long_for_the_line_go_into_the_notes(app, as_user, make_customer):
    """Nothing the customer asked for is cut: specifications that do not fit the line's 200 characters
    are written whole into the order's notes."""
    customer_id = make_customer("LNG")
    sales = as_user("sales")
    specs = "Powder coated RAL 9005, " * 20
    response = sales.post("/requirements/new", data=requirement_form(customer_id, specs=specs))
    req_id = id_from_location(response)
    with app.app_context():
        db.session.get(Requirement, req_id).status = "confirmed"
        db.session.commit()
    page = text_of(sales.get(f"/orders/new?requirement_id={req_id}"))
    assert 'value="Stainless bracket"' in page
    assert " ".join(specs.split()) in page  # in the notes textarea


def test_a_typed_product_stays_when_a_catalogue_product_is_picked(app, as_user, make_customer, make_product):
    """The user's own product text is not overwritten by the catalogue name."""
    customer_id = make_customer("OWN")
    product_id = make_product("BRK-2")
    response = as_user("sales").post("/requirements/new", data=requirement_form(
        customer_id, product="Bracket, longer arm", product_id=str(product_id)))
    assert get(app, Requirement, id_from_location(response)).product == "Bracket, longer arm"


def test_neither_product_nor_catalogue_pick_is_refused(app, as_user, make_customer):
    """One of them is needed."""
    customer_id = make_customer("NON")
    response = as_user("sales").post("/requirements/new", data=requirement_form(customer_id, product="", product_id="0"))
    assert response.status_code == 422 and "pick one from the catalogue" in error_of(text_of(response), "product")


def test_picking_a_catalogue_product_fills_the_fields_by_htmx(app, as_user, make_product):
    """The product fields come back filled (a fragment for htmx: name and unit of the product picked),
    replacing an earlier pick's name but never the user's own text; a full request gets the page."""
    first = make_product("BRK-3")
    second = make_product("BRK-4")
    sales = as_user("sales")
    htmx = {"HX-Request": "true"}
    fragment = text_of(sales.get("/requirements/product-fields",
                                 query_string={"product_id": first, "product": "", "quantity": "2,000"}, headers=htmx))
    assert fragment.lstrip().startswith('<div id="product-fields">') and "<html" not in fragment
    assert 'value="Product BRK-3"' in fragment
    # the unit beside the quantity comes as a partial of its own; the quantity is not swapped at all
    assert '<hx-partial hx-target="#unit-field"' in fragment and 'name="quantity"' not in fragment
    again = text_of(sales.get("/requirements/product-fields",
                              query_string={"product_id": second, "product": "Product BRK-3"}, headers=htmx))
    assert 'value="Product BRK-4"' in again
    own = text_of(sales.get("/requirements/product-fields",
                            query_string={"product_id": second, "product": "My own words"}, headers=htmx))
    assert 'value="My own words"' in own and "hx-partial" not in own
    bad = sales.get("/requirements/product-fields", query_string={"product_id": "99999999999"}, headers=htmx)
    assert bad.status_code == 200
    full = text_of(sales.get("/requirements/product-fields", query_string={"product_id": first}))
    assert "<html" in full and 'value="Product BRK-3"' in full
    assert as_user("warehouse").get("/requirements/product-fields").status_code == 403


def test_saving_keeps_a_unit_changed_after_the_pick(app, as_user, make_customer, make_product):
    """The pick filled the product's name and unit on the page; the user then chose another unit:
    saving keeps that unit (only an empty product field is filled on saving)."""
    customer_id = make_customer("UNT")
    product_id = make_product("BRK-5")
    response = as_user("sales").post("/requirements/new", data=requirement_form(
        customer_id, product="Product BRK-5", product_id=str(product_id), unit="箱"))
    requirement = get(app, Requirement, id_from_location(response))
    assert (requirement.product, requirement.unit) == ("Product BRK-5", "箱")


def test_the_requirement_record_calls_its_contact_with_one_tap(app, as_user, make_customer):
    """The requirement page shows the contact's phone as a tel: link (digits and + only)."""
    customer_id = make_customer("TELR")
    sales = as_user("sales")
    with app.app_context():
        requirement = Requirement(customer_id=customer_id, sales_rep_id=sales.user_id, product="Bracket",
                                  quantity=100, unit="pcs", contact_name="钱经理", contact_phone="138-0013 8001")
        db.session.add(requirement)
        db.session.commit()
        requirement_id = requirement.id
    page = sales.get(f"/requirements/{requirement_id}").get_data(as_text=True)
    assert 'href="tel:13800138001"' in page
