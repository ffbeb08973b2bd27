"""Issue 13, the customer's order page: one link per order (issued at countersignature; the older
after-sales link's tokens open the same page), where the order stands, shipments with transit events,
signed copies, inspections, tickets; nothing internal; the link ends a set time after the order
closes; the customer's mail choices, and the page's link in every mail they get (a real SMTP server)."""
import email
from datetime import timedelta

import pytest
import time_machine

from webapp import links
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.shipping.models import Shipment, ShipmentLine

from .helpers import SIGNATURE, text_of
from .test_shipping import link_path, new_shipment, packed
from .test_tracking import dispatch_one

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def order_link(app, order_id) -> str:
    return link_path(app, "order_service", order_id)


def mails(smtp) -> list:
    return [email.message_from_bytes(m.content) for m in smtp.messages]


def body_of(message) -> str:
    part = message.get_body(("plain",)) if hasattr(message, "get_body") else message
    payload = (part or message).get_payload(decode=True) if not message.is_multipart() else \
        next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True)
    return payload.decode("utf-8")


@pytest.fixture
def shipped(app, make_order, as_user):
    """An order made and passed by QC, one shipment packed and dispatched by the courier with an
    internal note the customer must not see: (order id, shipment id, courier path)."""
    return dispatch_one(app, make_order, as_user, note="load ok, ¥80 paid cash")


@BOTH
def test_the_link_exists_from_countersignature_and_follows_the_order(app, make_order):
    """Countersigned: the customer's page says confirmed; in production it shows the progress."""
    order_id = make_order("effective")
    customer = app.test_client()
    page = text_of(customer.get(order_link(app, order_id)))
    assert "Where your order stands" in page and 'aria-current="step"' in page
    assert "Promised for" in page
    order_id = make_order("in_production", customer="PRD")
    page = text_of(customer.get(order_link(app, order_id)))
    assert "0% made" in page


@BOTH
def test_shipment_events_and_signed_copy_on_the_page_without_internal_data(app, shipped):
    """A shipment on the way with a failed attempt; then signed: the receipt PDF downloads from the page.
    No price, cost, courier's note or staff name."""
    order_id, shipment_id, courier = shipped
    phone = app.test_client()
    phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-reason": "nobody_home",
                                          "e-note": "guard said come back after 2"})
    customer = app.test_client()
    path = order_link(app, order_id)
    page = text_of(customer.get(path))
    assert "SF Express" in page and "SF123" in page and "Nobody there to receive it" in page
    assert "It arrived: check and sign for it" in page
    for secret in ("¥", "80.00", "load ok", "guard said", "warehouse-maker", "sales-maker"):
        assert secret not in page, secret
    receipt = link_path(app, "delivery_receipt", shipment_id)
    with app.app_context():
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))
    signed = customer.post(receipt + "/receipt", data={f"line-{sline.id}-qty": "100", f"line-{sline.id}-condition": "ok",
                                                       "name": "Ann", "consent": "y", "strokes": SIGNATURE})
    assert signed.status_code == 200
    page = text_of(customer.get(path))
    assert "Signed receipt (PDF)" in page and "Countersigned order (PDF)" in page
    with app.app_context(), app.test_request_context():
        pdf_url = f"{receipt}/receipt-copy.pdf"
    pdf = customer.get(pdf_url)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert 'class="step-now"' in page or 'step-now' in page


@BOTH
def test_another_orders_token_and_wrong_purposes_get_404(app, shipped, make_order):
    """The page is the link's order; a courier token, a receipt token, a guessed one: 404. Tickets and
    choices through another order's token touch only that order."""
    order_id, shipment_id, courier = shipped
    other_id = make_order("effective", customer="OTH")
    mine, theirs = order_link(app, order_id), order_link(app, other_id)
    customer = app.test_client()
    assert "Your order" in text_of(customer.get(theirs))
    with app.app_context():
        other_number = db.session.get(Order, other_id).number
        my_number = db.session.get(Order, order_id).number
    assert other_number not in text_of(customer.get(mine)) and my_number not in text_of(customer.get(theirs))
    assert customer.get(courier + "/notices").status_code == 404
    assert customer.get("/c/" + "x" * 32 + "/notices").status_code == 404
    assert customer.get("/c/" + "9" * 20 + "/notices").status_code == 404
    assert customer.post(courier + "/notices", data={"eta": "y"}).status_code == 404


@BOTH
def test_old_after_sales_tokens_open_the_same_page(app, make_order):
    """A link issued before the page existed (the after-sales order link, 180 days) keeps working."""
    order_id = make_order("effective")
    with app.app_context(), app.test_request_context():
        links.revoke_all("order_service", order_id)
        old = links.issue("order_service", order_id, days=180)
        token = old.token
        db.session.commit()
    page = text_of(app.test_client().get("/c/" + token))
    assert "Where your order stands" in page


@BOTH
def test_the_link_ends_a_set_time_after_the_order_closes(app, make_order):
    """Closed: the page stays for TRACK_LINK_DAYS_AFTER_CLOSE days after the close, then 404 like any
    unknown link. A cancelled order has no page to follow."""
    from webapp import audit
    order_id = make_order("effective")
    path = order_link(app, order_id)
    app.config.update(TRACK_LINK_DAYS_AFTER_CLOSE=30)
    with app.app_context(), app.test_request_context():
        order = db.session.get(Order, order_id)
        order.status = "closed"  # what the close transition leaves (delivered and settled first)
        closed = audit.record("order.close", order)
        db.session.commit()
        closed_at = closed.at
    customer = app.test_client()
    with time_machine.travel(closed_at + timedelta(days=29)):
        assert customer.get(path).status_code == 200
    with time_machine.travel(closed_at + timedelta(days=31)):
        assert customer.get(path).status_code == 404
        assert customer.get(path + "/notices").status_code == 404
    other_id = make_order("effective", customer="CAN")
    with app.app_context():
        db.session.get(Order, other_id).status = "cancelled"
        db.session.commit()
    assert customer.get(order_link(app, other_id)).status_code == 404


@BOTH
def test_mail_choices_and_the_link_in_every_customer_mail(app, shipped, smtp, as_user):
    """Every mail to the customer carries the order page's link; a contact who unticks "a delivery
    attempt failed" is not told of one, and still gets the others."""
    order_id, shipment_id, courier = shipped
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    path = order_link(app, order_id)
    phone = app.test_client()
    phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-reason": "closed"})
    assert len(smtp.messages) == 1
    assert path in body_of(mails(smtp)[0])
    customer = app.test_client()
    form = text_of(customer.get(path + "/notices"))
    assert "A delivery attempt failed" in form and "buyer" in form.lower() or "@" in form
    saved = customer.post(path + "/notices", data={"eta": "y", "shipped": "y", "delivered": "y", "ticket": "y"})
    assert saved.status_code == 303
    phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-reason": "closed", "e-nonce": "b"})
    assert len(smtp.messages) == 1  # muted
    phone.post(courier + "/events", data={"e-kind": "delivered", "e-nonce": "c"})
    assert len(smtp.messages) == 2 and path in body_of(mails(smtp)[1])
    page = text_of(customer.get(path + "/notices"))
    assert page.count('checked') == 4
    # the staff's own mails carry no customer link
    from webapp.notify import Recipient, notify
    with app.app_context(), app.test_request_context():
        order = db.session.get(Order, order_id)
        notify("order.eta_changed", [Recipient("boss@firm.example", "en")], order=order,
               new_eta=order.delivery_date, reason="test")
        from webapp.notify import mail
        mail.flush()
    assert len(smtp.messages) == 3 and path not in body_of(mails(smtp)[2])


def test_staff_see_the_customers_tracking_link_and_the_confirmation_qr(app, make_order, as_user):
    """The after-sales page shows the tracking link to copy with its QR; the printed confirmation its QR."""
    order_id = make_order("effective")
    sales = as_user("sales", "manager")
    page = text_of(sales.get(f"/aftersales/orders/{order_id}"))
    assert "The customer's tracking link" in page
    confirmation = text_of(sales.get(f"/orders/{order_id}/confirmation"))
    assert 'id="tracking-qr"' in confirmation and order_link(app, order_id) in confirmation
    order_page = text_of(sales.get(f"/orders/{order_id}"))
    assert "The customer's tracking link" in order_page and order_link(app, order_id) in order_page
    assert "The customer's tracking link" not in text_of(as_user("production").get(f"/orders/{order_id}"))


@BOTH
def test_a_new_date_and_its_reason_in_plain_words_and_the_choice_not_to_be_told(app, make_order, smtp):
    """Production gives a new date with a reason: the customer's page shows the promised date, the new
    one and why; the mail carries the page's link; a contact who unticked new dates gets no mail."""
    from datetime import date
    from webapp.auth import User
    from webapp.production import services as floor
    from webapp.production.models import WorkOrder
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    order_id = make_order("in_production")
    path = order_link(app, order_id)

    def new_date(day, reason):
        with app.app_context(), app.test_request_context("/", method="POST"):
            job = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
            boss = db.session.scalar(db.select(User).where(User.username == "production-maker"))
            floor.raise_anomaly(job, boss, "equipment_failure", "minor", "spindle", "spare part ordered", day, reason, [])
            db.session.commit()
            from webapp.notify import mail
            mail.flush()

    new_date(date(2027, 3, 5), "The CNC spindle failed; the spare part arrives Monday.")
    page = text_of(app.test_client().get(path))
    assert "New expected date" in page and "The CNC spindle failed; the spare part arrives Monday." in page
    assert "Promised for" in page
    assert len(smtp.messages) == 1 and path in body_of(mails(smtp)[0])
    assert app.test_client().post(path + "/notices", data={"shipped": "y"}).status_code == 303
    new_date(date(2027, 3, 12), "Anodising batch came back with marks.")
    assert len(smtp.messages) == 1  # muted
    assert "Anodising batch came back with marks." in text_of(app.test_client().get(path))


def test_the_page_asks_a_fixed_number_of_questions_however_many_shipments(app, make_order, as_user):
    """One shipment or four, each with events: the same number of SQL statements (no query per shipment)."""
    from .test_query_counts import queries_for
    order_id = make_order("ready_to_ship", quantity="400")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    path = order_link(app, order_id)

    def one_more():
        assert new_shipment(warehouse, order_id, line_id, "100").status_code == 303
        with app.app_context():
            shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id)
                                            .order_by(Shipment.id.desc()))
        packed(app, warehouse, shipment_id)
        courier = link_path(app, "courier", shipment_id)
        assert app.test_client().post(courier + "/dispatch", data={"d-note": ""}).status_code == 303
        app.test_client().post(courier + "/events", data={"e-kind": "in_transit", "e-place": "Wuxi"})

    one_more()
    few, _page = queries_for(app, app.test_client(), path)
    for _ in range(3):
        one_more()
    many, page = queries_for(app, app.test_client(), path)
    assert page.count("Wuxi") == 4
    assert many == few, (few, many)


def test_documents_for_the_customer_download_through_their_link_only(app, shipped, make_order, as_user):
    """A material certificate the firm attached for the customer is on their page and downloads through
    their order link; a staff-only document, another order's document and a made-up id answer 404; the
    delivery note carries the page's QR."""
    import io
    order_id, shipment_id, _courier = shipped
    qc = as_user("qc")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for visible, title in (("y", "炉号 H2611-07"), ("", "internal note")):
        data = {"doc-kind": "material_certificate", "doc-title": title, "doc-file": (io.BytesIO(pdf), "cert.pdf")}
        if visible:
            data["doc-customer_visible"] = visible
        assert qc.post(f"/shipping/{shipment_id}/documents", data=data,
                       content_type="multipart/form-data").status_code == 303
    from webapp.shipping import ShipmentDocument
    with app.app_context():
        ids = {d.title: d.id for d in db.session.scalars(db.select(ShipmentDocument))}
    path = order_link(app, order_id)
    customer = app.test_client()
    page = text_of(customer.get(path))
    assert "炉号 H2611-07" in page and "internal note" not in page
    got = customer.get(f"{path}/documents/{ids['炉号 H2611-07']}")
    assert got.status_code == 200 and got.data == pdf
    got.close()
    assert customer.get(f"{path}/documents/{ids['internal note']}").status_code == 404
    assert customer.get(f"{path}/documents/99999999999999999999").status_code == 404
    other_path = order_link(app, make_order("ready_to_ship", customer="OTH"))
    assert customer.get(f"{other_path}/documents/{ids['炉号 H2611-07']}").status_code == 404
    note = text_of(as_user("warehouse").get(f"/shipping/{shipment_id}/delivery-note"))
    assert "Follow your order online" in note  # the customer's page as a QR beside the shipment's own
    # the delivery note (送货单) as a PDF through the customer's link: their shipment's only
    note_pdf = customer.get(f"{path}/shipments/{shipment_id}/delivery-note.pdf")
    assert note_pdf.status_code == 200 and note_pdf.data.startswith(b"%PDF")
    note_pdf.close()
    assert "/delivery-note.pdf" in text_of(customer.get(path))
    assert customer.get(f"{other_path}/shipments/{shipment_id}/delivery-note.pdf").status_code == 404
    assert customer.get(f"{path}/shipments/99999999999999999999/delivery-note.pdf").status_code == 404
