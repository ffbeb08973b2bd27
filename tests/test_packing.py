"""Packing by counted scans (issue 13): a carton's label counts its content and lot once; a wrong item
(another order's carton, another product), a wrong lot (held by QC, not in the stock the shipment
took), a double scan, too many and a forged label are refused with a message and count nothing; two
tablets scanning the same carton at once count it once; a packing list with a mismatch closes only
by a supervisor's override with a reason; carton labels print at their size and decode with zbar;
the delivery note (送货单) carries the letterhead, lots and QR; documents attach, are checked and
listed for the customer. On SQLite and PostgreSQL."""
import io
import shutil
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from PIL import Image

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.production.models import Product
from webapp.shipping import packing
from webapp.shipping.models import Shipment, ShipmentLine
from webapp.shipping.packing_models import Carton, PackingOverride, PackScan, ShipmentDocument
from webapp.stock import ledger, products

from .helpers import at_once, image_bytes, text_of
from .test_labels_print import decode_pdf, media_box
from .test_pdf_copies import pdf_text

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
JSON = {"Accept": "application/json"}
needs_tools = pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                                 reason="zbarimg and pdftoppm are needed")


def resolve(client, code, shipment, json=True):
    """A scan posted as the scanner's fetch (JSON) or its plain form."""
    return client.post("/scan/resolve", data={"code": code, "shipment": str(shipment)}, headers=JSON if json else {})


def stock_order(app, make_order, make_product, customer="ORD", quantity="400"):
    """An order (ready to ship) with a line of product GEAR-45 from stock; returns (order id, product id)."""
    order_id = make_order("ready_to_ship", customer=customer)
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.model == "GEAR-45"))
        if product is None:
            product = Product(model="GEAR-45", name="齿轮 GEAR-45", unit="pcs", list_price=Decimal("5"),
                              on_hand=Decimal("0"))
            db.session.add(product)
            db.session.flush()
        db.session.add(OrderLine(order_id=order_id, position=2, product_id=product.id, model="GEAR-45",
                                 quantity=Decimal(quantity), unit="pcs", unit_price=Decimal("5"),
                                 unit_price_incl=Decimal("5.65")))
        db.session.commit()
        return order_id, product.id


def receive_lots(app, product_id, lots):
    """Receive {lot code: (quantity, status)} of the product into stock."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        product = db.session.get(Product, product_id)
        material = products.material_for_product(product)
        for code, (quantity, status) in lots.items():
            ledger.receive(material, Decimal(quantity), products.default_location(), unit_cost=Decimal("2"),
                           lot_code=code)
            ledger.find_lot(material, code).status = status
        db.session.commit()


def new_shipment(app, client, order_id, quantity="400"):
    """A shipment of the order's stock line (its first, made line stays home); returns its id."""
    with app.app_context():
        line = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.position == 2))
    response = client.post(f"/shipping/orders/{order_id}/new",
                           data={"method": "delivery", "carrier": "SF", "tracking_no": "1", "cost": "0",
                                 f"qty-{line.id}": quantity})
    assert response.status_code == 303, text_of(response)[:400]
    with app.app_context():
        return db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id)
                                 .order_by(Shipment.id.desc()))


def cartons(app, order_id, product_id, lot_code, each, count):
    """count carton labels of each pieces from lot_code, made for the order: their QR URLs."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        product = db.session.get(Product, product_id)
        lot = ledger.find_lot(products.material_for_product(product), lot_code) if lot_code else None
        made = packing.make_cartons(db.session.get(Order, order_id), product, lot, Decimal(each), count, None)
        urls = [packing.carton_url(c) for c in made]
        db.session.commit()
        return urls


@pytest.fixture
def packing_setup(app, make_order, make_product, as_user):
    """A shipment of 400 GEAR-45 taken from stock: 300 of lot L-A and 100 of lot L-B (first in, first
    out); lot L-Q waits for inspection, lot L-C has stock this shipment did not take."""
    order_id, product_id = stock_order(app, make_order, make_product)
    receive_lots(app, product_id, {"L-A": ("300", "available"), "L-Q": ("100", "quarantine"),
                                   "L-B": ("250", "available"), "L-C": ("80", "available")})
    warehouse = as_user("warehouse")
    shipment_id = new_shipment(app, warehouse, order_id)
    with app.app_context():
        line_id = db.session.scalar(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
    return {"client": warehouse, "order": order_id, "product": product_id, "shipment": shipment_id, "line": line_id}


def counted(app, shipment_id):
    """{lot code: quantity} counted for the shipment, and the number of scans."""
    with app.app_context():
        scans = db.session.scalars(db.select(PackScan).where(PackScan.shipment_id == shipment_id)).all()
        out = {}
        for scan in scans:
            key = scan.lot.code if scan.lot else None
            out[key] = out.get(key, Decimal("0")) + scan.quantity
        return out


@BOTH
def test_carton_scans_count_their_lots_and_tick_the_line(app, packing_setup):
    """Three cartons of 100 from L-A and one of 100 from L-B fill the 400: each scan counts its
    carton's content and lot, the line is ticked at the last one with the lots as its batch, and the
    shipment can be packed as usual."""
    s = packing_setup
    urls = cartons(app, s["order"], s["product"], "L-A", "100", 3) + cartons(app, s["order"], s["product"], "L-B",
                                                                             "100", 1)
    for index, url in enumerate(urls, start=1):
        response = resolve(s["client"], url, s["shipment"])
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["line"]["counted"] == str(index * 100)
    with app.app_context():
        last = db.session.scalar(db.select(Carton.number).order_by(Carton.id.desc()))
    assert body["message"] == f"Counted: Carton {last}: GEAR-45 × 100 pcs, lot L-B (400 of 400). Line complete."
    assert body["line"]["checked"] is True and body["progress"] == "1 of 1 lines checked"
    assert counted(app, s["shipment"]) == {"L-A": Decimal("300"), "L-B": Decimal("100")}
    with app.app_context():
        line = db.session.get(ShipmentLine, s["line"])
        assert line.checked_at is not None and line.batch == "L-A, L-B"
        assert db.session.scalar(db.select(db.func.count()).select_from(Carton).where(
            Carton.shipment_id == s["shipment"])) == 4
    assert s["client"].post(f"/shipping/{s['shipment']}/pack").status_code == 303
    with app.app_context():
        assert db.session.get(Shipment, s["shipment"]).status == "packed"
    page = text_of(s["client"].get(f"/shipping/{s['shipment']}"))
    assert "400 of 400 counted" in page and "L-A" in page


@BOTH
def test_wrong_lot_wrong_item_double_scan_too_many_and_forged_count_nothing(app, packing_setup, make_order,
                                                                             make_product):
    """Each refused scan answers 409 (404 for a label this firm never printed) with a message that
    names the problem, and nothing is counted."""
    s = packing_setup
    client, shipment = s["client"], s["shipment"]
    held = cartons(app, s["order"], s["product"], "L-Q", "50", 1)[0]
    body = resolve(client, held, shipment)
    assert body.status_code == 409
    assert body.get_json()["message"] == ("Wrong lot: lot L-Q is not released (waiting for inspection or "
                                          "blocked).")
    other_lot = cartons(app, s["order"], s["product"], "L-C", "50", 1)[0]
    body = resolve(client, other_lot, shipment).get_json()
    assert body["message"] == "Wrong lot: lot L-C is not in the stock taken for this shipment (lots L-A, L-B)."
    # another order's carton of the same product and lot
    other_order, _product = stock_order(app, make_order, make_product, customer="OTH", quantity="50")
    foreign = cartons(app, other_order, s["product"], "L-A", "50", 1)[0]
    body = resolve(client, foreign, shipment).get_json()
    assert body["message"].startswith("Wrong item: carton ") and "was packed for order" in body["message"]
    # too many: a carton of 500 for a line of 400
    big = cartons(app, s["order"], s["product"], "L-A", "500", 1)[0]
    body = resolve(client, big, shipment).get_json()
    assert body["message"] == "Too many: this adds 500 but only 400 of GEAR-45 are still to pack."
    # a forged label: the count changed on a genuine carton's URL (its signature no longer matches)
    genuine = cartons(app, s["order"], s["product"], "L-A", "100", 1)[0]
    parts = urlsplit(genuine)
    query = parse_qs(parts.query)
    query["n"] = ["10"]
    forged = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    response = resolve(client, forged, shipment)
    assert response.status_code == 409 and "this label is not genuine" in response.get_json()["message"]
    # a signature made up for a token that does not exist
    response = resolve(client, "https://tracker.example.com/k/AAAAAAAAAAAAAAAAAAAAAAAA?n=100&lot=L-A&s=x",
                       shipment)
    assert response.status_code == 404
    assert response.get_json()["message"] == "This carton label is not known here: it was not printed by this firm."
    assert counted(app, shipment) == {}
    # the genuine one counts; scanned again it is a double scan
    assert resolve(client, genuine, shipment).status_code == 200
    again = resolve(client, genuine, shipment)
    assert again.status_code == 409
    assert again.get_json()["message"].endswith("was already counted in this shipment: scanned twice.")
    assert counted(app, shipment) == {"L-A": Decimal("100")}
    # the plain form keeps what was typed and shows the message
    page = resolve(client, genuine, shipment, json=False)
    assert page.status_code == 409 and "scanned twice" in text_of(page)


@BOTH
def test_two_tablets_scanning_the_same_carton_at_once_count_it_once(app, packing_setup, make_user):
    """The same carton label posted from two tablets at the same moment: one counts it, the other is
    told it was scanned twice; one scan row, 100 counted."""
    s = packing_setup
    url = cartons(app, s["order"], s["product"], "L-A", "100", 1)[0]
    make_user("warehouse", username="tablet-b")
    make_user("warehouse", username="tablet-c")
    data = {"code": url, "shipment": str(s["shipment"])}
    statuses = at_once(app, ["tablet-b", "tablet-c"], [("/scan/resolve", data), ("/scan/resolve", data)])
    assert sorted(statuses) == [303, 409]
    assert counted(app, s["shipment"]) == {"L-A": Decimal("100")}


@BOTH
def test_items_by_barcode_count_one_each_from_the_shipments_lots(app, packing_setup):
    """A maker's barcode counts one piece, its lot the first lot the shipment took that is not all
    counted (L-A, then L-B)."""
    s = packing_setup
    with app.app_context():
        db.session.get(Product, s["product"]).barcode = "6901234567892"
        db.session.commit()
    body = resolve(s["client"], "6901234567892", s["shipment"]).get_json()
    assert body["line"]["lot"] == "L-A" and body["line"]["state"] == "1 of 400 counted"
    assert counted(app, s["shipment"]) == {"L-A": Decimal("1")}


@BOTH
def test_a_mismatch_closes_only_by_a_supervisors_override_with_a_reason(app, packing_setup, as_user):
    """300 of 400 counted and the line ticked by hand: Packed is refused (409); the warehouse may not
    override (403); a supervisor without a reason gets the form back (422); with one, the shipment
    is packed and the reason and the mismatch are kept, audited and shown."""
    s = packing_setup
    client, shipment = s["client"], s["shipment"]
    for url in cartons(app, s["order"], s["product"], "L-A", "100", 3):
        assert resolve(client, url, shipment).status_code == 200
    assert client.post(f"/shipping/{shipment}/pack").status_code == 409  # the line is not ticked yet
    assert client.post(f"/shipping/{shipment}/lines/{s['line']}/check", data={"batch": ""}).status_code == 303
    response = client.post(f"/shipping/{shipment}/pack")
    assert response.status_code == 409
    assert "What was counted does not match the packing list" in text_of(response)
    assert "Count again, or a supervisor closes it with a reason." in text_of(client.get(f"/shipping/{shipment}"))
    assert client.post(f"/shipping/{shipment}/override", data={"ovr-reason": "ok"}).status_code == 403
    supervisor = as_user("operations")
    page = text_of(supervisor.get(f"/shipping/{shipment}"))
    assert "Close with a mismatch (supervisor)" in page and "300 of 400 counted" in page
    response = supervisor.post(f"/shipping/{shipment}/override", data={"ovr-reason": "  \x00 "})
    assert response.status_code == 422 and "Say why the packing list is closed as it is." in text_of(response)
    with app.app_context():
        assert db.session.get(Shipment, shipment).status == "packing"
    reason = "客户同意先发 300 件，余数下批补发"
    assert supervisor.post(f"/shipping/{shipment}/override", data={"ovr-reason": reason}).status_code == 303
    with app.app_context():
        assert db.session.get(Shipment, shipment).status == "packed"
        record = db.session.scalar(db.select(PackingOverride))
        assert record.reason == reason and '"counted": "300' in record.mismatch_json
        assert db.session.scalar(db.select(AuditEvent.note).where(
            AuditEvent.action == "shipment.packing_override")) == reason
    page = text_of(supervisor.get(f"/shipping/{shipment}"))
    assert "Closed by a supervisor despite a mismatch" in page and reason in page
    # a second override of a closed list is refused
    assert supervisor.post(f"/shipping/{shipment}/override", data={"ovr-reason": "again"}).status_code == 409


@needs_tools
def test_carton_labels_print_at_their_size_and_decode_to_their_signed_url(app, packing_setup, tmp_path):
    """The shipment's carton labels as a PDF: one 100×70 mm page each, whose QR zbar reads as the
    signed carton URL; the A4 sheet carries them all; a made carton's form works from the page."""
    s = packing_setup
    client = s["client"]
    page = text_of(client.get(f"/shipping/{s['shipment']}"))
    assert "Make carton labels" in page and "GEAR-45 · lot L-A" in page
    with app.app_context():
        lot_id = db.session.scalar(db.select(ledger.Lot.id).where(ledger.Lot.code == "L-A"))
    response = client.post(f"/shipping/{s['shipment']}/cartons",
                           data={"ctn-source": f"{s['line']}:{lot_id}", "ctn-per_carton": "100", "ctn-count": "2",
                                 "ctn-weight_kg": "12.5", "ctn-length_cm": "40", "ctn-width_cm": "30",
                                 "ctn-height_cm": "25"})
    assert response.status_code == 303
    with app.app_context():
        made = db.session.scalars(db.select(Carton).order_by(Carton.id)).all()
        urls = sorted(packing.carton_url(c) for c in made)
        assert [c.weight_kg for c in made] == [Decimal("12.5")] * 2
    pdf = client.get(f"/shipping/{s['shipment']}/cartons/labels-100x70.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert b"/Count 2" in pdf.data  # two pages, the size shared from the page tree
    assert all(abs(w - 283.46) < 0.1 and abs(h - 198.43) < 0.1 for w, h in media_box(pdf.data))
    assert decode_pdf(pdf.data, tmp_path) == urls
    assert all("/k/" in url and "n=100" in url and "lot=L-A" in url for url in urls)
    sheet = client.get(f"/shipping/{s['shipment']}/cartons/sheet-100x70.pdf")
    (tmp_path / "sheet").mkdir()
    assert decode_pdf(sheet.data, tmp_path / "sheet") == urls
    # a decoded label counts when scanned
    assert resolve(client, urls[0], s["shipment"]).status_code == 200
    # bad input on the carton form: none of the offered goods, 0 cartons, "2,000" per carton is 2000
    bad = client.post(f"/shipping/{s['shipment']}/cartons",
                      data={"ctn-source": "999:999", "ctn-per_carton": "abc", "ctn-count": "0"})
    assert bad.status_code == 422
    big = client.post(f"/shipping/{s['shipment']}/cartons",
                      data={"ctn-source": f"{s['line']}:{lot_id}", "ctn-per_carton": "2,000", "ctn-count": "1"})
    assert big.status_code == 303
    with app.app_context():
        assert db.session.scalars(db.select(Carton.quantity).order_by(Carton.id.desc())).first() == Decimal("2000")
    assert client.get(f"/shipping/{s['shipment']}/cartons/labels-1x1.pdf").status_code == 404


@BOTH
def test_carton_weight_and_size(app, packing_setup):
    """A carton's weight, dimensions and contents are saved from the shipment page; hostile numbers
    are refused with a message and change nothing."""
    s = packing_setup
    cartons(app, s["order"], s["product"], "L-A", "100", 1)
    with app.app_context():
        carton_id = db.session.scalar(db.select(Carton.id))
    prefix = f"size-{carton_id}-"
    ok = s["client"].post(f"/shipping/cartons/{carton_id}/size",
                          data={prefix + "weight_kg": "1,250.5", prefix + "length_cm": "60", prefix + "width_cm": "40",
                                prefix + "height_cm": "35", prefix + "contents": "齿轮 100 件，防锈纸包装"})
    assert ok.status_code == 303
    bad = s["client"].post(f"/shipping/cartons/{carton_id}/size", data={prefix + "weight_kg": "9" * 20})
    assert bad.status_code == 303
    with app.app_context():
        carton = db.session.get(Carton, carton_id)
        assert carton.weight_kg == Decimal("1250.5") and carton.length_cm == Decimal("60")
        assert carton.contents == "齿轮 100 件，防锈纸包装"
    assert s["client"].post("/shipping/cartons/99999999999999999999/size").status_code == 404


@BOTH
def test_delivery_note_page_and_pdf_on_the_letterhead(app, packing_setup, as_user):
    """The 送货单 shows the firm's name, address and phone, the customer, the lines with their lots,
    the cartons and the shipment's QR; the PDF says the same in Chinese."""
    s = packing_setup
    with app.app_context():
        from webapp.firm import get_settings
        settings = get_settings()
        settings.firm_name, settings.firm_address, settings.firm_phone = "演示制造有限公司", "苏州工业园区星湖街 88 号", "0512-6666 8888"
        db.session.commit()
    for url in cartons(app, s["order"], s["product"], "L-A", "100", 3) + cartons(app, s["order"], s["product"],
                                                                                 "L-B", "100", 1):
        resolve(s["client"], url, s["shipment"])
    page = text_of(s["client"].get(f"/shipping/{s['shipment']}/delivery-note"))
    for expected in ("演示制造有限公司", "苏州工业园区星湖街 88 号", "0512-6666 8888", "L-A × 300", "L-B × 100", "<svg"):
        assert expected in page
    s["client"].post("/auth/language", data={"locale": "zh"})
    pdf = s["client"].get(f"/shipping/{s['shipment']}/delivery-note.pdf", headers={"Accept-Language": "zh-CN"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "苏州工业园区星湖街 88 号" in text and "L-A × 300" in text and "GEAR-45" in text
    assert as_user("courier").get(f"/shipping/{s['shipment']}/delivery-note").status_code == 403


@BOTH
def test_documents_attach_checked_and_listed_for_the_customer(app, packing_setup, as_user):
    """A PDF material certificate and a photographed report attach (the image re-encoded without its
    EXIF); a staff-only note is not the customer's; a fake PDF, an .exe and no file are refused with
    a message; customer_documents lists what the customer may see."""
    s = packing_setup
    qc = as_user("qc")
    url = f"/shipping/{s['shipment']}/documents"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    ok = qc.post(url, data={"doc-kind": "material_certificate", "doc-title": "炉号 H2611-07",
                            "doc-customer_visible": "y", "doc-file": (io.BytesIO(pdf), "材质证明.pdf")},
                 content_type="multipart/form-data")
    assert ok.status_code == 303
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # the camera's maker
    jpeg = image_bytes("JPEG", size=(64, 48), exif=exif)
    assert qc.post(url, data={"doc-kind": "inspection_report", "doc-customer_visible": "y",
                              "doc-file": (io.BytesIO(jpeg), "report.jpg")},
                   content_type="multipart/form-data").status_code == 303
    assert qc.post(url, data={"doc-kind": "other", "doc-title": "internal",
                              "doc-file": (io.BytesIO(pdf), "note.pdf")},
                   content_type="multipart/form-data").status_code == 303
    fake = qc.post(url, data={"doc-kind": "other", "doc-file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "x.pdf")},
                   content_type="multipart/form-data")
    assert fake.status_code == 422 and "does not match its type" in text_of(fake)
    exe = qc.post(url, data={"doc-kind": "other", "doc-file": (io.BytesIO(b"MZ"), "tool.exe")},
                  content_type="multipart/form-data")
    assert exe.status_code == 422 and "Attach a PDF or an image" in text_of(exe)
    empty = qc.post(url, data={"doc-kind": "other"}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Choose a file." in text_of(empty)
    assert as_user("courier").post(url, data={"doc-kind": "other"}).status_code == 403
    with app.app_context(), app.test_request_context("/"):
        from webapp.shipping import customer_documents
        listed = customer_documents(db.session.get(Shipment, s["shipment"]))
        assert [(d["kind"], d["title"]) for d in listed] == [("material_certificate", "炉号 H2611-07"),
                                                            ("inspection_report", "report.jpg")]
        image_doc = db.session.scalar(db.select(ShipmentDocument).where(ShipmentDocument.kind == "inspection_report"))
        doc_id, pdf_id = image_doc.id, listed[0]["document"].id
    download = s["client"].get(f"/shipping/documents/{doc_id}")
    data = download.data
    download.close()
    assert download.status_code == 200 and b"SecretCam" not in data
    assert Image.open(io.BytesIO(data)).getexif().get(0x010F) is None
    download = s["client"].get(f"/shipping/documents/{pdf_id}")
    assert download.data == pdf
    download.close()
    page = text_of(s["client"].get(f"/shipping/{s['shipment']}"))
    assert "炉号 H2611-07" in page and "staff only" in page
    assert qc.post(f"/shipping/documents/{pdf_id}/remove").status_code == 303
    assert s["client"].get(f"/shipping/documents/{pdf_id}").status_code == 404


@BOTH
def test_carton_scans_queued_offline_apply_once_or_become_visible_conflicts(app, packing_setup, as_user):
    """A tablet without signal queued two carton scans. Replayed, the first counts once (a repeat gets
    the stored answer); the second's carton was meanwhile counted from another tablet: kept as a
    conflict with its data (the token in its code redacted) and answered 409, counting nothing twice."""
    from .test_sync import enrol, is_problem, send
    from webapp.sync.models import SyncConflict
    s = packing_setup
    first, second = cartons(app, s["order"], s["product"], "L-A", "100", 2)
    response = enrol(s["client"])
    assert response.status_code == 200
    body = response.get_json()
    device = type("Device", (), {"id": body["device"], "secret": body["secret"]})
    actor = s["client"].user_id
    data = lambda code: {"code": code, "shipment": str(s["shipment"])}  # noqa: E731
    applied = send(app, "/scan/resolve", device, actor, "k-1", data(first), **{"X-Attempt": "2"})
    assert applied.status_code == 200 and applied.get_json()["line"]["counted"] == "100"
    again = send(app, "/scan/resolve", device, actor, "k-1", data(first), **{"X-Attempt": "3"})
    assert again.status_code == 200 and again.get_json() == applied.get_json()
    assert resolve(as_user("warehouse"), second, s["shipment"]).status_code == 200  # the other tablet
    late = send(app, "/scan/resolve", device, actor, "k-2", data(second), **{"X-Attempt": "2"})
    problem = is_problem(late, 409)
    assert "scanned twice" in problem["detail"]
    assert counted(app, s["shipment"]) == {"L-A": Decimal("200")}
    with app.app_context():
        conflict = db.session.scalar(db.select(SyncConflict).where(SyncConflict.key == "k-2"))
        assert conflict is not None and "/k/[redacted]" in conflict.fields
        assert second.split("/k/")[1].split("?")[0] not in conflict.fields


def test_a_carton_label_outside_packing_opens_the_cartons_page(app, packing_setup, as_user):
    """Scanned outside packing, a carton label opens its page (what it holds, where it is packed) for
    staff who see shipments; the courier and an unknown token get nothing."""
    s = packing_setup
    url = cartons(app, s["order"], s["product"], "L-A", "100", 1)[0]
    body = s["client"].post("/scan/resolve", data={"code": url}, headers=JSON).get_json()
    assert body["action"] == "go" and body["url"].startswith("/k/")
    page = text_of(s["client"].get(body["url"]))
    assert "GEAR-45 × 100 pcs" in page and "L-A" in page and "Not packed yet." in page
    assert as_user("courier").get(body["url"].split("?")[0]).status_code == 403
    assert s["client"].get("/k/" + "A" * 24).status_code == 404
