"""Numbers typed into forms are read by the user's locale (zh-CN and en: a comma groups thousands,
a period is the decimal point), after NFKC so a Chinese IME's full-width digits count; a lone comma
is never a decimal point. Inputs are pre-filled without grouping, so what a page pre-fills reads
back as the same number. (A receipt pre-filled "2,000" was once saved as 2.)"""
import importlib
import inspect
import pkgutil
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from flask import render_template_string
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields.core import UnboundField

import webapp
from webapp.extensions import db
from webapp.forms import DecimalText, parse_decimal
from webapp.production.models import Product
from webapp.shipping.models import DeliveryReceipt, ReceiptLine, ReturnCase, Shipment, ShipmentLine

from .helpers import SIGNATURE, get, text_of
from .test_shipping import link_path, new_shipment, packed

ACCEPT = {"zh": "zh-CN,zh;q=0.9", "en": "en-GB,en;q=0.8"}
HINT = {"zh": "逗号只用于千位分隔，小数请用小数点，如 1,234.5。",
        "en": "A comma only separates thousands; write decimals with a point, for example 1,234.5."}
FEW = settings(max_examples=20, derandomize=True, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def value_of(page: str, name: str) -> str:
    """The value attribute of the input called name."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no input {name}"
    return re.search(r'\bvalue="([^"]*)"', tag.group(0)).group(1)


def customer_phone(app, lang: str):
    """The customer's phone, its browser set to lang."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = ACCEPT[lang]
    return client


def dispatched(app, make_order, as_user, ordered: str, shipped: str, lang: str):
    """An order of `ordered` pieces, a shipment of `shipped` typed by a warehouse clerk working in lang,
    packed and picked up by the courier: returns (shipment id, shipment line id)."""
    from webapp.orders.models import OrderLine
    order_id = make_order("ready_to_ship", quantity=ordered)
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert warehouse.post(f"/lang/{lang}").status_code == 303
    assert new_shipment(warehouse, order_id, line_id, shipped).status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc()))
        sline_id = db.session.scalar(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
    packed(app, warehouse, shipment_id)
    courier = app.test_client()
    assert courier.post(link_path(app, "courier", shipment_id) + "/dispatch", data={"d-note": ""}).status_code == 303
    return shipment_id, sline_id


def receipt_data(sline_id: int, qty: str) -> dict:
    return {f"line-{sline_id}-qty": qty, f"line-{sline_id}-condition": "ok", f"line-{sline_id}-note": "",
            "name": "王芳", "relation": "仓管", "consent": "y", "strokes": SIGNATURE}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("shipped, typed, saved, prefilled", [
    ("2,000", "2,000", Decimal("2000"), "2000"),            # the customer leaves the pre-filled number
    ("12,345.5", "12,345.5", Decimal("12345.5"), "12345.5"),
    ("2000", "２，０００", Decimal("2000"), "2000"),          # typed with a Chinese IME, full width
    ("2000", "２０００。０", Decimal("2000"), "2000"),         # the IME's ideographic full stop
])
def test_receipt_of_thousands_is_saved_as_typed(app, make_order, as_user, lang, shipped, typed, saved, prefilled):
    """A shipment and its receipt in the thousands, typed with grouping: the full quantity is saved
    as received and no shortfall or return case opens."""
    shipment_id, sline_id = dispatched(app, make_order, as_user, "20000", shipped, lang)
    assert get(app, ShipmentLine, sline_id).quantity == saved
    customer = customer_phone(app, lang)
    receipt = link_path(app, "delivery_receipt", shipment_id) + "/receipt"
    page = text_of(customer.get(receipt))
    assert value_of(page, f"line-{sline_id}-qty") == prefilled  # never "2,000": no grouping in an input
    assert re.search(rf'name="line-{sline_id}-qty"[^>]*inputmode="decimal"', page)
    response = customer.post(receipt, data=receipt_data(sline_id, typed))
    assert response.status_code == 200, text_of(response)[:2000]
    with app.app_context():
        line = db.session.scalar(db.select(ReceiptLine).where(ReceiptLine.shipment_line_id == sline_id))
        assert line.received_qty == saved
        assert db.session.scalar(db.select(db.func.count()).select_from(ReturnCase)) == 0
        assert db.session.get(Shipment, shipment_id).status == "delivered"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_lone_comma_is_refused_with_a_translated_hint(app, make_order, as_user, lang):
    """'1234,5' is neither 1234.5 nor 12345: the receipt, the shipment and a staff form refuse it
    with our own hint in the user's language (not Babel's English), keeping what was typed."""
    shipment_id, sline_id = dispatched(app, make_order, as_user, "5000", "2000", lang)
    customer = customer_phone(app, lang)
    receipt = link_path(app, "delivery_receipt", shipment_id) + "/receipt"
    response = customer.post(receipt, data=receipt_data(sline_id, "1234,5"))
    page = text_of(response)
    assert response.status_code == 422 and HINT[lang] in page and "properly formatted" not in page
    assert value_of(page, f"line-{sline_id}-qty") == "1234,5"
    assert get(app, Shipment, shipment_id).status == "dispatched"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DeliveryReceipt)) == 0

    # a per-line quantity parsed outside WTForms (the shipment's packing quantities)
    from webapp.orders.models import OrderLine
    warehouse = as_user("warehouse")
    warehouse.post(f"/lang/{lang}")
    with app.app_context():
        line = db.session.scalar(db.select(OrderLine))
    response = new_shipment(warehouse, line.order_id, line.id, "1234,5")
    assert response.status_code == 422 and HINT[lang] in text_of(response)
    assert value_of(text_of(response), f"qty-{line.id}") == "1234,5"

    # a WTForms field: the product's stock
    response = warehouse.post("/customers/products/new", data={"model": "M-1", "name": "Bracket", "unit": "pcs",
                                                               "list_price": "12.50", "on_hand": "1234,5"})
    assert response.status_code == 422 and HINT[lang] in text_of(response)
    assert value_of(text_of(response), "on_hand") == "1234,5"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Product)) == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_forms_read_grouped_and_full_width_numbers(app, as_user, lang):
    """The product form: money and opening stock typed with grouping or a Chinese IME are saved
    exactly; the edit page pre-fills the price without grouping, as text with a number keypad (the
    new-product page has the stock field: after that only the ledger moves stock)."""
    warehouse = as_user("warehouse")
    warehouse.post(f"/lang/{lang}")
    response = warehouse.post("/customers/products/new", data={
        "model": "M-1", "name": "Bracket", "unit": "pcs", "list_price": "１２，３４５．５０", "on_hand": "2,000"})
    assert response.status_code == 303, text_of(response)[:2000]
    with app.app_context():
        product = db.session.scalar(db.select(Product))
        assert (product.list_price, product.on_hand) == (Decimal("12345.50"), Decimal("2000"))
    page = text_of(warehouse.get(f"/customers/products/{product.id}/edit"))
    assert value_of(page, "list_price") == "12345.50"
    assert re.search(r'<input[^>]*inputmode="decimal"[^>]*name="list_price"', page)
    new = text_of(warehouse.get("/customers/products/new"))
    assert re.search(r'<input[^>]*name="on_hand"[^>]*type="text"|<input[^>]*type="text"[^>]*name="on_hand"', new)
    assert re.search(r'<input[^>]*inputmode="decimal"[^>]*name="on_hand"', new)


def test_whole_counts_are_numeric_text_fields(app, as_user):
    """Credit days: a whole count, with the numeric keypad; '３０' from an IME is 30, '1.5' is refused."""
    from webapp.customers.models import Customer
    sales = as_user("sales")
    page = text_of(sales.get("/customers/new"))
    assert re.search(r'<input[^>]*inputmode="numeric"[^>]*name="credit_days"', page)
    data = {"name": "华东机械", "abbreviation": "HDJM", "locale": "zh", "currency": "CNY", "prepayment_pct": "30"}
    refused = sales.post("/customers/new", data={**data, "credit_days": "1.5"})
    assert refused.status_code == 422 and value_of(text_of(refused), "credit_days") == "1.5"
    assert sales.post("/customers/new", data={**data, "credit_days": "３０"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Customer.credit_days)) == 30


def number_fields() -> list[tuple[str, str, object]]:
    """Every DecimalText (and WholeNumberText) field of every form class in the app: (form, name, field)."""
    found = []
    for module_info in pkgutil.walk_packages(webapp.__path__, "webapp."):
        if not module_info.name.endswith(".forms"):
            continue
        module = importlib.import_module(module_info.name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, Form):
                continue
            for name, member in inspect.getmembers(cls):
                if isinstance(member, UnboundField) and issubclass(member.field_class, DecimalText):
                    found.append((f"{cls_name}.{name}", name, member))
    return found


NUMBER_FIELDS = number_fields()


def test_the_number_fields_are_found():
    """The property test below covers the app's forms (money, quantities, percentages, counts)."""
    names = {label for label, _name, _field in NUMBER_FIELDS}
    assert {"ProductForm.on_hand", "ProductForm.list_price", "PaymentForm.amount", "CustomerForm.credit_days",
            "ProgressForm.good"} <= names, names


@FEW
@given(data=st.data(), lang=st.sampled_from(["zh", "en"]))
def test_what_any_number_field_prefills_reads_back_the_same(app, data, lang):
    """For every number field of every form: render it (through the page macro) for a value up to
    10^9, read the input's value attribute, and parse it back in the same locale: the same value."""
    macro = '{% from "_macros/forms.html" import field %}{{ field(form.x) }}'
    with app.test_request_context("/", headers={"Accept-Language": ACCEPT[lang]}):
        for label, _name, unbound in NUMBER_FIELDS:
            places = unbound.kwargs.get("places", 0 if "Whole" in unbound.field_class.__name__ else 2)
            low = max(Decimal(unbound.kwargs.get("minimum") or 0), Decimal(0))
            high = min(Decimal(unbound.kwargs.get("maximum") or 10 ** 9), Decimal(10 ** 9))
            value = data.draw(st.decimals(min_value=low, max_value=high, places=places, allow_nan=False,
                                          allow_infinity=False), label=label)
            one = type("One", (Form,), {"x": unbound})
            form = one(data={"x": int(value) if places == 0 else value})
            prefilled = value_of(render_template_string(macro, form=form), "x")
            assert "," not in prefilled, (label, prefilled)
            again = one(formdata=MultiDict({"x": prefilled}))
            assert not again.x.process_errors and again.x.data == value, (label, value, prefilled)


@FEW
@given(quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10 ** 9), places=3),
       lang=st.sampled_from(["zh", "en"]))
def test_what_the_receipt_prefills_reads_back_the_same(app, make_order, as_user, quantity, lang):
    """The receipt page pre-fills each line with the shipped quantity outside WTForms: whatever the
    quantity, the pre-filled text parses back to it in the customer's locale."""
    if not hasattr(app, "receipt_under_test"):  # one shipment for all examples; its quantity varies
        app.receipt_under_test = dispatched(app, make_order, as_user, "20000", "2000", "en")
    shipment_id, sline_id = app.receipt_under_test
    with app.app_context():
        db.session.get(ShipmentLine, sline_id).quantity = quantity
        db.session.commit()
    page = text_of(customer_phone(app, lang).get(link_path(app, "delivery_receipt", shipment_id) + "/receipt"))
    prefilled = value_of(page, f"line-{sline_id}-qty")
    with app.test_request_context("/", headers={"Accept-Language": ACCEPT[lang]}):
        assert parse_decimal(prefilled, places=3) == quantity, prefilled


@pytest.mark.parametrize("typed", ["9" * 99, "9" * 1_000_000, "1," * 300_000 + "000", "1\x002", "NaN", "-Infinity",
                                   "1.2.3", "1 000", "١٢,٣"])
def test_hostile_numbers_are_refused_with_a_message(app, typed):
    """Huge, endless or odd numbers are a translated refusal (NumberError, a ValueError that the
    forms show), never a decimal.InvalidOperation (a 500) or a slow strict parse."""
    from webapp.forms import NumberError
    with app.test_request_context("/", headers={"Accept-Language": ACCEPT["zh"]}):
        with pytest.raises(NumberError) as refused:
            parse_decimal(typed, places=3)
        assert str(refused.value).startswith("请") or "至多" in str(refused.value) or "逗号" in str(refused.value)
