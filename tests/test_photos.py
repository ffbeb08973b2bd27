"""Photos are seen: a photo sent with an anomaly (a dispatch, a receipt) is a thumbnail where the
supervisor looks — the anomaly, the plan, the order's timeline — opens full size, and is served
only to staff who may see its order. The timeline tells the whole story, event by event."""
import io
import os
import re

from PIL import Image

from webapp import uploads
from webapp.extensions import db
from webapp.photos import Photo
from webapp.production.models import Anomaly, WorkOrder
from webapp.shipping.models import ReturnCase, Shipment, ShipmentLine

from .helpers import SIGNATURE, customer_path, text_of


def camera_jpeg(size=(2400, 1800)) -> io.BytesIO:
    """A real JPEG larger than what is kept, with something to see in it."""
    image = Image.new("RGB", size, (30, 90, 160))
    for x in range(0, size[0], 200):
        image.paste((240, 200, 40), (x, 0, x + 60, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    out.seek(0)
    return out


def fetched(client, url, **kwargs):
    """GET url and read the whole body, closing the file a photo response holds open."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def in_production(app, make_order):
    """An order in production and its work order (id, token)."""
    order_id = make_order("in_production")
    with app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        return order_id, work_order.id, work_order.token


def raise_anomaly(worker, token, note="Coolant pump leaking", photos=1, severity="minor"):
    """The worker raises an anomaly with photos from the label's page."""
    response = worker.post(f"/w/{token}/anomaly", data={
        "a-kind": "equipment_failure", "a-severity": severity, "a-note": note, "a-contingency": "Use line 2",
        "a-photos": [(camera_jpeg(), f"pump{i}.jpg") for i in range(photos)]}, content_type="multipart/form-data")
    assert response.status_code == 303, text_of(response)[:500]


def anomaly_photo(app) -> Photo:
    with app.app_context():
        photo = db.session.scalar(db.select(Photo).where(Photo.entity_type == "anomaly").order_by(Photo.id.desc()))
        db.session.expunge(photo)
        return photo


def thumbnail_of(page: str, photo_id: int) -> bool:
    """Whether the page shows the photo as a lazy thumbnail that links to the full image."""
    return bool(re.search(rf'<a class="photo-link" href="/photos/{photo_id}"[^>]*>'
                          rf'<img [^>]*src="/photos/{photo_id}/small"[^>]*loading="lazy"', page))


def test_an_anomaly_photo_is_a_thumbnail_on_the_anomaly_the_plan_and_the_timeline(app, make_order, as_user):
    """The worker's photo is made into a small JPEG at upload; the supervisor sees it as a thumbnail
    on the anomaly (the label's page), on the plan and on the order's timeline, each opening full size."""
    order_id, wo_id, token = in_production(app, make_order)
    worker, supervisor = as_user("worker"), as_user("production")
    raise_anomaly(worker, token)
    photo = anomaly_photo(app)
    with app.test_request_context():
        thumb_file = uploads.thumb_path_of(photo.stored_name)
    assert os.path.exists(thumb_file)  # made with the upload, from the pixels already decoded
    with Image.open(thumb_file) as small:
        assert small.format == "JPEG" and max(small.size) == uploads.THUMB_SIDE

    for url in (f"/w/{token}", f"/production/orders/{order_id}", f"/orders/{order_id}/timeline"):
        page = text_of(supervisor.get(url))
        assert thumbnail_of(page, photo.id), url
        assert "Coolant pump leaking" in page, url

    small = fetched(supervisor, f"/photos/{photo.id}/small")
    assert small.status_code == 200 and small.mimetype == "image/jpeg"
    assert small.headers["X-Content-Type-Options"] == "nosniff"
    assert small.cache_control.private and not small.cache_control.public and small.cache_control.max_age >= 3600
    assert small.headers["Content-Disposition"].startswith("inline")
    assert "Content-Security-Policy" in small.headers
    with Image.open(io.BytesIO(small.data)) as image:
        assert max(image.size) == uploads.THUMB_SIDE
    full = fetched(supervisor, f"/photos/{photo.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(full.data)) as image:
        assert max(image.size) == uploads.MAX_PHOTO_SIDE  # the kept size, bigger than the thumbnail
    assert len(full.data) == photo.size > len(small.data)
    # a repeat asks with the ETag and is answered without the bytes
    again = fetched(supervisor, f"/photos/{photo.id}", headers={"If-None-Match": full.headers["ETag"].strip('"')})
    assert again.status_code == 304 and again.data == b""


def test_photos_are_served_only_to_staff_who_may_see_the_order(app, make_order, as_user):
    """Anonymous visitors are sent to the login and get no bytes; a role that may not see the order
    or the floor gets 403; an unknown photo or one asked for under another kind's address is 404."""
    order_id, wo_id, token = in_production(app, make_order)
    raise_anomaly(as_user("worker"), token)
    photo = anomaly_photo(app)
    anonymous = app.test_client()
    for url in (f"/photos/{photo.id}", f"/photos/{photo.id}/small", f"/production/photos/{photo.id}"):
        response = fetched(anonymous, url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
        assert not response.data.startswith(b"\xff\xd8"), url
    courier = as_user("courier")
    for url in (f"/photos/{photo.id}", f"/photos/{photo.id}/small", f"/production/photos/{photo.id}"):
        assert fetched(courier, url).status_code == 403, url
    for role in ("worker", "production", "sales", "finance", "manager"):  # the floor, and the order's staff
        assert fetched(as_user(role), f"/photos/{photo.id}/small").status_code == 200, role
    supervisor = as_user("production")
    assert fetched(supervisor, "/photos/999999").status_code == 404
    assert fetched(supervisor, "/photos/999999/small").status_code == 404
    assert fetched(supervisor, f"/shipping/photos/{photo.id}").status_code == 404  # not a shipping photo
    assert fetched(as_user("operations"), f"/sync/conflicts/photos/{photo.id}").status_code == 404
    # a photo whose record is gone belongs to no order any more
    with app.app_context():
        db.session.execute(db.update(Photo).where(Photo.id == photo.id).values(entity_id=987654))
        db.session.commit()
    assert fetched(supervisor, f"/photos/{photo.id}").status_code == 404


def test_a_scoped_sales_rep_gets_404_for_photos_of_another_reps_customer(app, make_order, as_user):
    """With "sales reps see only their own customers" on, a photo's address answers like its order's
    page: 404 for a rep who does not own the customer (on every address of the photo), 200 for the
    owner; with the setting off both see it again."""
    from webapp.admin.models import get_settings
    from webapp.customers.models import Customer
    from webapp.orders.models import Order
    order_id, wo_id, token = in_production(app, make_order)
    raise_anomaly(as_user("worker"), token)
    photo = anomaly_photo(app)
    owner, other = as_user("sales"), as_user("sales")
    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
        db.session.get(Customer, customer_id).owner_id = owner.user_id
        get_settings().sales_own_customers_only = True
        db.session.commit()
    for url in (f"/photos/{photo.id}", f"/photos/{photo.id}/small"):
        assert fetched(other, url).status_code == 404, url
        assert fetched(owner, url).status_code == 200, url
    assert fetched(other, f"/orders/{order_id}/timeline").status_code == 404  # as the order's pages
    with app.app_context():
        get_settings().sales_own_customers_only = False
        db.session.commit()
    assert fetched(other, f"/photos/{photo.id}").status_code == 200


def test_a_photo_stored_before_thumbnails_gets_one_on_first_request(app, make_order, as_user):
    """Photos kept before thumbnails were made at upload get theirs when first asked for, kept on disk."""
    order_id, wo_id, token = in_production(app, make_order)
    raise_anomaly(as_user("worker"), token)
    photo = anomaly_photo(app)
    with app.test_request_context():
        thumb_file = uploads.thumb_path_of(photo.stored_name)
    os.remove(thumb_file)
    small = fetched(as_user("production"), f"/photos/{photo.id}/small")
    assert small.status_code == 200 and small.mimetype == "image/jpeg"
    assert os.path.exists(thumb_file)
    with open(thumb_file, "rb") as fh:
        assert fh.read() == small.data


def test_a_refused_upload_leaves_no_thumbnail_behind(app, make_order, as_user):
    """A post whose second photo is unfit keeps neither photo nor thumbnail."""
    order_id, wo_id, token = in_production(app, make_order)
    response = as_user("worker").post(f"/w/{token}/anomaly", data={
        "a-kind": "quality", "a-severity": "minor", "a-note": "Burrs",
        "a-photos": [(camera_jpeg(), "good.jpg"), (io.BytesIO(b"not an image"), "bad.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 422
    with app.test_request_context():
        folder = os.path.dirname(uploads.thumb_path_of("x.jpg"))
    assert os.listdir(folder) == []


def test_the_timeline_tells_every_kind_of_event_as_it_happens(app, make_order, as_user):
    """Review verdicts, anomalies raised and resolved (with photos), QC rejects and passes with their
    quantities, the courier's dispatch, problem and the signed receipt (with notes and photos), the
    ticket opened, answered and confirmed, the follow-up call and the survey's answer: each appears on
    the order's timeline once it has happened, with who did it and a link to the thing."""
    order_id, wo_id, token = in_production(app, make_order)
    worker, supervisor, qc = as_user("worker", name="Wu Worker"), as_user("production", name="Pan Supervisor"), \
        as_user("qc", name="Qiu Inspector")
    warehouse, aftersales = as_user("warehouse", name="Wei Warehouse"), as_user("aftersales", name="Ai Service")
    sales, customer, courier = as_user("sales", name="Sun Sales"), app.test_client(), app.test_client()
    reader = as_user("manager")

    def story() -> str:
        response = reader.get(f"/orders/{order_id}/timeline")
        assert response.status_code == 200
        return text_of(response)

    def appears(*words):
        """Each of words is on the timeline now."""
        text = story()
        for word in words:
            assert word in text, word
        return text

    # Review verdicts were given through the services: who, which department, which verdict.
    text = appears("Feasibility sign-off", "Agree", "Approved", "Countersigned by the customer")
    assert re.search(r"Production: Agree", text) and "production-maker" not in text
    assert "Coolant" not in text and "QC rejected" not in text

    raise_anomaly(worker, token, note="Coolant pump leaking", severity="blocking")
    photo = anomaly_photo(app)
    text = appears("Anomaly raised", "Coolant pump leaking", "Equipment failure", "work stopped", "Wu Worker",
                   "Contingency plan")
    assert thumbnail_of(text, photo.id)
    assert f'href="/production/orders/{order_id}#anomaly-' in text
    assert "Anomaly resolved" not in text
    with app.app_context():
        anomaly_id = db.session.scalar(db.select(Anomaly.id))
    assert supervisor.post(f"/production/anomalies/{anomaly_id}/resolve",
                           data={"r-resolution": "Pump replaced"}).status_code == 303
    assert supervisor.post(f"/w/{token}/do/unblock").status_code == 303
    appears("Anomaly resolved", "Pump replaced", "Pan Supervisor")

    assert worker.post(f"/w/{token}/report", data={"p-good": "100", "p-scrap": "0"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert "QC rejected" not in story()
    assert qc.post(f"/w/{token}/do/fail_qc", data={"q-quantity": "5", "q-disposition": "rework",
                                                   "q-note": "Scratched faces"}).status_code == 303
    appears("QC rejected pieces", "5 rejected (rework)", "Scratched faces", "Qiu Inspector")
    assert worker.post(f"/w/{token}/report", data={"p-good": "5", "p-scrap": "0"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert "QC passed" not in story()
    assert qc.post(f"/w/{token}/do/pass_qc").status_code == 303
    appears("QC passed", "100 good")

    # Stage 4: the courier's events and the customer's receipt, with notes and photos.
    with app.app_context():
        line_id = db.session.scalar(db.select(WorkOrder.order_line_id).where(WorkOrder.id == wo_id))
    warehouse.post(f"/shipping/orders/{order_id}/new", data={f"qty-{line_id}": "100", "method": "delivery",
                                                             "carrier": "SF Express", "tracking_no": "SF778",
                                                             "cost": "50"})
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
        sline_id = db.session.scalar(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
    warehouse.post(f"/shipping/{shipment_id}/lines/{sline_id}/check", data={"batch": "B7"})
    assert warehouse.post(f"/shipping/{shipment_id}/pack").status_code == 303
    assert "Dispatched" not in story()
    courier_path = customer_path(app, "courier", shipment_id)
    assert courier.post(courier_path + "/dispatch", data={"d-note": "Loaded at gate 3",
                                                          "d-photos": [(camera_jpeg(), "load.jpg")]},
                        content_type="multipart/form-data").status_code == 303
    text = appears("Dispatched", "Loaded at gate 3", "SF Express SF778", "Courier")
    with app.app_context():
        dispatch_photo = db.session.scalar(db.select(Photo.id).where(Photo.entity_type == "dispatch"))
    assert thumbnail_of(text, dispatch_photo) and f'href="/shipping/{shipment_id}"' in text
    assert courier.post(courier_path + "/problem", data={"p-note": "Traffic jam on the G2",
                                                         "p-photos": [(camera_jpeg(), "jam.jpg")]},
                        content_type="multipart/form-data").status_code == 303
    text = appears("Courier reported a problem", "Traffic jam on the G2")
    with app.app_context():
        problem_photo = db.session.scalar(db.select(Photo.id).where(Photo.entity_type == "shipment_problem"))
    assert thumbnail_of(text, problem_photo)
    assert "Delivered and signed for" not in text
    receipt = customer_path(app, "delivery_receipt", shipment_id)
    response = customer.post(receipt + "/receipt", data={
        f"line-{sline_id}-qty": "98", f"line-{sline_id}-condition": "damaged", f"line-{sline_id}-note": "Two bent",
        "name": "Ann Buyer", "relation": "Receiving clerk", "consent": "y", "strokes": SIGNATURE,
        "photos": [(camera_jpeg(), "bent.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 200, text_of(response)[:500]
    text = appears("Delivered and signed for", "Ann Buyer", "Receiving clerk", "Damaged 98/100", "Two bent",
                   "Return case opened")
    with app.app_context():
        receipt_photo = db.session.scalar(db.select(Photo.id).where(Photo.entity_type == "receipt"))
        case_id = db.session.scalar(db.select(ReturnCase.id))
    assert thumbnail_of(text, receipt_photo)
    # the same evidence on the shipment's page
    shipment_page = text_of(warehouse.get(f"/shipping/{shipment_id}"))
    for photo_id in (dispatch_photo, problem_photo, receipt_photo):
        assert thumbnail_of(shipment_page, photo_id), photo_id
    assert "Traffic jam on the G2" in shipment_page

    # Stage 5: a ticket opened, answered and confirmed; the return closed; the call; the survey.
    assert "Ticket opened" not in story()
    response = aftersales.post(f"/aftersales/orders/{order_id}/tickets",
                               data={"t-subject": "Two bent brackets", "t-description": "Please resend two."})
    ticket_id = int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))
    text = appears("Ticket opened", "Two bent brackets", "Ai Service")
    assert f'href="/aftersales/tickets/{ticket_id}"' in text
    ticket_page = text_of(aftersales.get(f"/aftersales/tickets/{ticket_id}"))
    assert thumbnail_of(ticket_page, receipt_photo) and "Damaged 98/100" in ticket_page
    service = customer_path(app, "order_service", order_id)
    assert customer.post(f"/aftersales{service}/tickets/{ticket_id}/reply",
                         data={f"r{ticket_id}-body": "Photos sent by WeChat"}).status_code == 303
    appears("Customer replied", "Photos sent by WeChat")
    assert "Ticket answered" not in story()
    assert aftersales.post(f"/aftersales/tickets/{ticket_id}/respond",
                           data={"m-body": "Two new ones leave today."}).status_code == 303
    appears("Ticket answered", "Two new ones leave today.")
    assert customer.post(f"/aftersales{service}/tickets/{ticket_id}/confirm").status_code == 303
    appears("Customer confirmed the resolution")
    assert aftersales.post(f"/shipping/returns/{case_id}/close", data={
        f"close-{case_id}-outcome": "replaced", f"close-{case_id}-note": "Two resent"}).status_code == 303
    appears("Return case closed", "Two resent")
    assert "Follow-up call made" not in story()
    assert sales.post(f"/aftersales/orders/{order_id}/follow-up",
                      data={"f-outcome": "Happy with the resend"}).status_code == 303
    appears("Follow-up call made", "Happy with the resend", "Sun Sales")
    assert "Survey answered" not in story()
    survey = customer_path(app, "survey", order_id)
    assert customer.post(f"/aftersales{survey}/survey", data={
        "requirement_response": "5", "delivery_timeliness": "3", "service_quality": "4",
        "suggestions": "Pack tighter"}).status_code == 303
    text = appears("Survey answered", "Delivery timeliness: 3 / 5")
    # every entry says when, in the firm's time, and who
    assert len(re.findall(r"<time datetime=", text)) >= 20


def test_the_timeline_in_chinese_uses_the_labels(app, make_order, as_user):
    """On a Chinese page the events, kinds and verdicts are words from the catalogue, not keys."""
    order_id, wo_id, token = in_production(app, make_order)
    raise_anomaly(as_user("worker"), token, severity="blocking")
    reader = as_user("manager")
    reader.post("/lang/zh")
    text = text_of(reader.get(f"/orders/{order_id}/timeline"))
    for key in ("equipment_failure", "work_order.anomaly", "order.review", "agree", "blocking"):
        assert key not in text, key
    assert "设备故障" in text and "同意" in text
