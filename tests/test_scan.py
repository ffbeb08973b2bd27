"""The in-app scanner's server side: a scanned code opens this app's own page, counts one piece of a
packing-list line by the product's maker barcode (tests/test_packing.py: cartons and lots), or shows the product; unknown and
too-long codes are refused with a message; the scanner page alone may compile WebAssembly."""
import hashlib
import re
from decimal import Decimal

import pytest

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.production.models import Product, WorkOrder
from webapp.shipping.models import Shipment, ShipmentLine

from .helpers import text_of

JSON = {"Accept": "application/json"}
EAN = "4006381333931"  # a valid EAN-13 (check digit 1)
OTHER_EAN = "5901234123457"


def resolve(client, code, shipment=None, json=True):
    """Post a code to the scanner's endpoint, as its fetch (JSON) or as the plain form."""
    data = {"code": code}
    if shipment is not None:
        data["shipment"] = str(shipment)
    return client.post("/scan/resolve", data=data, headers=JSON if json else {})


def set_barcode(app, product_id, barcode):
    with app.app_context():
        db.session.get(Product, product_id).barcode = barcode
        db.session.commit()


@pytest.fixture
def packing(app, make_order, make_product, as_user):
    """A shipment being packed with three lines: two of BRK-1 (one order line linked to the product,
    one that only names its model) and one of NUT-2. The first line passed QC; the two added after
    release have no work order and are taken from stock."""
    brk = make_product("BRK-1")
    nut = make_product("NUT-2", on_hand="7")
    set_barcode(app, brk, EAN)
    set_barcode(app, nut, OTHER_EAN)
    order_id = make_order("ready_to_ship")
    with app.app_context():
        first = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id))
        assert first.product_id is None and first.model == "BRK-1"  # matched by model
        extra = [OrderLine(order_id=order_id, position=2, product_id=brk, model="BRK-1", quantity=Decimal("20"),
                           unit="pcs", unit_price=Decimal("10"), unit_price_incl=Decimal("11.30")),
                 OrderLine(order_id=order_id, position=3, product_id=nut, model="NUT-2", quantity=Decimal("5"),
                           unit="pcs", unit_price=Decimal("1"), unit_price_incl=Decimal("1.13"))]
        db.session.add_all(extra)
        db.session.commit()
        line_ids = [first.id] + [line.id for line in extra]
    warehouse = as_user("warehouse")
    data = {"method": "delivery", "carrier": "SF", "tracking_no": "1", "cost": "0"}
    for line_id, qty in zip(line_ids, ("10", "20", "5")):
        data[f"qty-{line_id}"] = qty
    response = warehouse.post(f"/shipping/orders/{order_id}/new", data=data)
    assert response.status_code == 303, text_of(response)[:500]
    with app.app_context():
        shipment = db.session.scalar(db.select(Shipment).where(Shipment.order_id == order_id))
        lines = {sl.order_line_id: sl.id for sl in shipment.lines}
        return {"client": warehouse, "shipment": shipment.id, "order": order_id,
                "lines": [lines[i] for i in line_ids]}


def checked(app, shipment_id):
    """The ids of the shipment's ticked-off lines."""
    with app.app_context():
        return {line.id for line in db.session.scalars(db.select(ShipmentLine).where(
            ShipmentLine.shipment_id == shipment_id, ShipmentLine.checked_at.is_not(None)))}


def test_own_urls_go_to_their_page(app, make_order, as_user):
    """A work-order label (under PUBLIC_URL or the address the phone used) opens its page; a URL of
    another site, a path that leaves the origin, or a page that does not exist is an unknown code."""
    order_id = make_order("in_production")
    with app.app_context():
        token = db.session.scalar(db.select(WorkOrder.token).where(WorkOrder.order_id == order_id))
    worker = as_user("worker")
    for code in (f"https://tracker.example.com/w/{token}", f"http://localhost/w/{token}",
                 f"HTTPS://Tracker.Example.com:443/w/{token}"):
        response = resolve(worker, code)
        assert response.status_code == 200, code
        assert response.get_json() == {"action": "go", "url": f"/w/{token}"}
    # the plain form is redirected there
    response = resolve(worker, f"https://tracker.example.com/w/{token}?from=scan", json=False)
    assert response.status_code == 303 and response.headers["Location"] == f"/w/{token}?from=scan"
    for code in (f"https://evil.example.com/w/{token}", "https://tracker.example.com//evil.example.com/w/x",
                 "https://tracker.example.com/no-such-page", f"https://user@tracker.example.com/w/{token}",
                 f"http://tracker.example.com/w/{token}", "https://tracker.example.com:x/"):
        response = resolve(worker, code)
        assert response.status_code == 404, code
        assert response.get_json()["message"] == f"Unknown code: {code}"


def test_product_barcode_counts_one_a_scan_and_ticks_a_line_when_full(app, packing):
    """Each scan of a product's barcode counts one piece of its first line with room; the line is
    ticked when its count is reached, then the next line fills; one more than listed is refused."""
    client, shipment, (brk_a, brk_b, nut) = packing["client"], packing["shipment"], packing["lines"]
    first = resolve(client, EAN, shipment)
    assert first.status_code == 200
    body = first.get_json()
    assert body["action"] == "checked" and body["line"]["id"] == brk_a and body["line"]["model"] == "BRK-1"
    assert body["message"].startswith("Counted: BRK-1 × 1 pcs") and body["message"].endswith("(1 of 10)")
    assert body["line"]["state"] == "1 of 10 counted" and body["line"]["checked"] is False
    assert body["progress"] == "0 of 3 lines checked" and checked(app, shipment) == set()
    for _ in range(9):
        body = resolve(client, EAN, shipment).get_json()
    assert body["line"] == {**body["line"], "id": brk_a, "checked": True, "state": "checked"}
    assert body["message"].endswith("(10 of 10). Line complete.") and checked(app, shipment) == {brk_a}
    for _ in range(20):
        body = resolve(client, EAN, shipment).get_json()
    assert body["line"]["id"] == brk_b and checked(app, shipment) == {brk_a, brk_b}
    third = resolve(client, EAN, shipment)
    assert third.status_code == 409
    assert third.get_json()["message"] == "Too many: this adds 1 but only 0 of BRK-1 are still to pack."
    assert checked(app, shipment) == {brk_a, brk_b}
    # the plain form: a redirect back to the scanner in packing mode, with the message
    for _ in range(4):
        resolve(client, OTHER_EAN, shipment)
    response = resolve(client, OTHER_EAN, shipment, json=False)
    assert response.status_code == 303 and response.headers["Location"] == f"/scan?shipment={shipment}"
    page = text_of(client.get(response.headers["Location"]))
    assert "Counted: NUT-2 × 1 pcs" in page and "(5 of 5). Line complete." in page and "3 of 3 lines checked" in page
    assert checked(app, shipment) == {brk_a, brk_b, nut}
    with app.app_context():
        events = db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "shipment.counted", AuditEvent.entity_id == shipment))
    assert events == 35  # one audit event a counted scan


def test_a_product_that_is_not_on_the_list_or_a_shipment_not_packing(app, packing, make_product):
    """Scanning the wrong product warns (409) and counts nothing; a packed shipment refuses (409)."""
    client, shipment = packing["client"], packing["shipment"]
    stray = make_product("ODD-9")
    set_barcode(app, stray, "CODE128-ODD9")
    response = resolve(client, "CODE128-ODD9", shipment)
    assert response.status_code == 409
    assert response.get_json() == {"action": "error", "message": "Wrong item: ODD-9 is not on this packing list."}
    with app.app_context():
        db.session.get(Shipment, shipment).status = "packed"
        db.session.commit()
    response = resolve(client, EAN, shipment)
    assert response.status_code == 409
    assert response.get_json()["message"] == "This shipment is not in a state that allows this."
    assert checked(app, shipment) == set()


def test_product_outside_packing_shows_what_it_is(app, make_product, as_user):
    """Without a shipment a product barcode shows the product and its stock, no prices; a UPC-A
    read of an EAN-13 that starts with 0 finds it too."""
    product = make_product("BRK-1", on_hand="42", price="99.00")
    set_barcode(app, product, "0012345678905")
    worker = as_user("worker")
    for code in ("0012345678905", "012345678905"):
        body = resolve(worker, code).get_json()
        assert body["action"] == "product"
        assert body["product"] == {"model": "BRK-1", "name": "Product BRK-1", "on_hand": "42", "unit": "pcs",
                                   "message": "BRK-1 · Product BRK-1: 42 pcs on hand"}
    page = resolve(worker, "0012345678905", json=False)
    assert page.status_code == 200
    text = text_of(page)
    assert "Product BRK-1" in text and "42 pcs" in text
    assert "99.00" not in text and "¥" not in text  # no prices on a scanner


def test_unknown_and_too_long_codes(app, as_user):
    """Unknown: 404 with the code named; over 300 characters or empty: 422. The plain form keeps
    what was typed."""
    worker = as_user("worker")
    response = resolve(worker, "NO-SUCH-CODE")
    assert response.status_code == 404
    assert response.get_json() == {"action": "error", "message": "Unknown code: NO-SUCH-CODE"}
    page = resolve(worker, "NO-SUCH-CODE", json=False)
    assert page.status_code == 404
    assert 'value="NO-SUCH-CODE"' in text_of(page) and "Unknown code: NO-SUCH-CODE" in text_of(page)
    long_code = "9" * 301
    response = resolve(worker, long_code)
    assert response.status_code == 422
    assert response.get_json()["message"] == "A code has at most 300 characters."
    page = resolve(worker, long_code, json=False)
    assert page.status_code == 422 and f'value="{long_code}"' in text_of(page)
    assert resolve(worker, "9" * 300).status_code == 404  # 300 is allowed (and unknown)
    response = resolve(worker, "   ")
    assert response.status_code == 422 and response.get_json()["message"] == "Scan or type a code."


def test_packing_needs_shipment_manage(app, packing, as_user):
    """Roles without shipment.manage get the scanner but not packing mode (403, nothing ticked)."""
    shipment = packing["shipment"]
    for role in ("sales", "worker", "courier"):
        client = as_user(role)
        assert client.get("/scan").status_code == 200
        assert client.get(f"/scan?shipment={shipment}").status_code == 403
        response = resolve(client, EAN, shipment)
        assert response.status_code == 403
        assert response.get_json()["message"] == "You are not allowed to do this."
    assert checked(app, shipment) == set()
    warehouse = packing["client"]
    assert warehouse.get(f"/scan?shipment={shipment}").status_code == 200
    assert warehouse.get("/scan?shipment=999999").status_code == 404
    assert warehouse.get("/scan?shipment=abc").status_code == 404
    assert resolve(warehouse, EAN, 999999).status_code == 404
    assert app.test_client().get("/scan").status_code == 302  # login first


def test_only_the_scanner_page_may_compile_webassembly(app, as_user):
    """/scan's CSP adds 'wasm-unsafe-eval' (the decoder) and nothing else; other pages keep the
    strict policy. The page loads our own decoder and .wasm, no CDN."""
    client = as_user("warehouse")
    response = client.get("/scan")
    csp = response.headers["Content-Security-Policy"]
    # 'self', the page's import map by its hash (webapp/assets.py), and WebAssembly
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval';", csp)
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    home = client.get("/").headers["Content-Security-Policy"]
    assert "wasm-unsafe-eval" not in home and re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+';", home)
    # an error answer of the scanner's form is the scanner page again: it needs the decoder too
    assert "wasm-unsafe-eval" in resolve(client, "nothing", json=False).headers["Content-Security-Policy"]
    page = text_of(response)
    # under content-hashed names (webapp/assets.py)
    assert re.search(r"/static/vendor/barcode-detector-3\.2\.2\.ponyfill\.iife\.[0-9a-f]{8}\.js", page)
    wasm_url = re.search(r'data-wasm="(/static/vendor/zxing_reader-3\.1\.3\.[0-9a-f]{8}\.wasm)"', page).group(1)
    assert re.search(r"/static/js/scanner\.[0-9a-f]{8}\.js", page) and "cdn" not in page.lower() and "jsdelivr" not in page
    wasm = client.get(wasm_url)
    # streaming compilation needs the right type; the bytes are the package's (its published SHA-256)
    assert wasm.mimetype == "application/wasm"
    assert hashlib.sha256(wasm.data).hexdigest() == (
        "2ebda08a93eea3efcd8399cda6b276e6a0b1de4fec60b4d8988a047de4c6d1ba")
    wasm.close()
