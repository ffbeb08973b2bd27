"""First articles (打样 / 首件确认): which work orders need one (the firm setting), QC inspects one with
photos and sends it through a customer link; the customer approves or rejects once on their phone
(a second answer changes nothing), expired and unknown links answer like any other; staff are told
and the order's timeline shows the decision."""
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from webapp import audit, links
from webapp.extensions import db
from webapp.firm import get_settings
from webapp.production.models import WorkOrder
from webapp.quality import first_article_blocks, first_article_required
from webapp.quality.models import FirstArticle, Inspection, InspectionPlan, InspectionValue, PlanItem
from webapp.wallclock import utcnow

from .helpers import customer_path, get, jpeg_file, text_of


@pytest.fixture
def qc(as_user):
    return as_user("qc", username="inspector", name="Ines Inspector")


def set_first_article(app, value):
    with app.app_context():
        get_settings().first_article = value
        db.session.commit()


def test_which_work_orders_need_a_first_article(app, make_order):
    first = make_order("in_production", customer="NEW")
    second = make_order("in_production", customer="NEW")
    other = make_order("in_production", customer="OTH")
    with app.app_context():
        def wo(order_id):
            return db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        assert not first_article_required(wo(first)) and first_article_blocks(wo(first)) is None  # "never"
        get_settings().first_article = "always"
        assert first_article_required(wo(first)) and first_article_required(wo(second))
        get_settings().first_article = "new"
        assert first_article_required(wo(first))  # BRK-1 is new to this customer
        assert not first_article_required(wo(second))  # they had it on the first order
        assert first_article_required(wo(other))
        assert "mass production waits" in first_article_blocks(wo(first))
        assert first_article_blocks(wo(second)) is None
        db.session.rollback()


def make_first_article(app, qc, work_order_id):
    """QC starts a first article with a measured check, records and passes it, adds a photo."""
    with app.app_context():
        order_id = db.session.get(WorkOrder, work_order_id).order_id
        plan = InspectionPlan(name="First piece", stage="first_article", sampling="all",
                              customer_id=db.session.get(WorkOrder, work_order_id).order.customer_id)
        plan.items = [PlanItem(position=1, name="Length", lower=Decimal("99.5"), upper=Decimal("100.5"), unit="mm")]
        db.session.add(plan)
        db.session.commit()
    response = qc.post(f"/quality/wo/{work_order_id}/first-article", data={"kind": "first_piece",
                                                                          "note": "Brushed finish"})
    assert response.status_code == 303
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    article = get(app, FirstArticle, article_id)
    assert article.order_id == order_id
    with app.app_context():
        value = db.session.scalar(db.select(InspectionValue).where(InspectionValue.inspection_id == article.inspection_id))
    assert qc.post(f"/quality/inspections/{article.inspection_id}",
                   data={f"value-{value.id}": "100.2", "defects": "0"}).status_code == 303
    response = qc.post(f"/quality/first-articles/{article_id}/send")
    assert response.status_code == 409  # not inspected yet
    assert qc.post(f"/quality/inspections/{article.inspection_id}/decide", data={"decision": "pass"}).status_code == 303
    response = qc.post(f"/quality/first-articles/{article_id}/photos",
                       data={"photos": (jpeg_file(size=(400, 300)), "piece.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 303
    assert qc.post(f"/quality/first-articles/{article_id}/send").status_code == 303
    return article_id


def test_the_customer_approves_once(app, qc, work_order):
    set_first_article(app, "always")
    article_id = make_first_article(app, qc, work_order.id)
    assert get(app, FirstArticle, article_id).status == "sent"
    staff_page = text_of(qc.get(f"/quality/first-articles/{article_id}"))
    assert "With the customer" in staff_page
    path = customer_path(app, "first_article", article_id)
    customer = app.test_client()
    page = customer.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    html = text_of(page)
    assert "100.2" in html and "99.5" in html and "/first-article/photos/" in html
    photo_url = next(part.split('"')[0] for part in html.split('src="') if "/first-article/photos/" in part[:80])
    photo = customer.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    photo.close()
    response = customer.post(path + "/first-article", data={"decision": "reject", "name": "Ann", "comment": ""})
    assert response.status_code == 422  # a rejection says why
    assert get(app, FirstArticle, article_id).status == "sent"
    response = customer.post(path + "/first-article", data={"decision": "approve", "name": "", "comment": ""})
    assert response.status_code == 422
    response = customer.post(path + "/first-article",
                             data={"decision": "approve", "name": "Ann Buyer", "comment": "Looks right"})
    assert response.status_code == 303
    article = get(app, FirstArticle, article_id)
    assert (article.status, article.decided_by_name, article.customer_comment) == ("approved", "Ann Buyer", "Looks right")
    copy = customer.get(path)
    assert copy.status_code == 200 and "You approved the first article" in text_of(copy)
    # a second answer (a double tap, a replay): nothing changes, it says it was decided
    again = customer.post(path + "/first-article", data={"decision": "reject", "name": "Bob", "comment": "No"})
    assert again.status_code == 303
    follow = customer.get(again.headers["Location"])
    assert "already decided" in text_of(follow)
    assert get(app, FirstArticle, article_id).status == "approved"
    with app.app_context():
        events = db.session.scalars(db.select(audit.AuditEvent).where(
            audit.AuditEvent.entity_type == "order", audit.AuditEvent.entity_id == work_order.order_id,
            audit.AuditEvent.action.like("first_article.%"))).all()
        assert [(e.action, e.actor_kind, e.actor_label) for e in events] == [
            ("first_article.sent", "user", None), ("first_article.approved", "link", "Ann Buyer")]
        assert first_article_blocks(db.session.get(WorkOrder, work_order.id)) is None
    mails = [m.read_text(errors="replace") for m in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    assert any("first article" in m.lower() or "=?utf-8?" in m for m in mails), mails[:1]
    assert qc.post(f"/quality/first-articles/{article_id}/send").status_code == 409  # decided: no new link
    kept = customer.get(photo_url)  # the copy shows the photos the customer decided on
    assert kept.status_code == 200
    kept.close()
    with app.app_context():  # the decision is older than the firm keeps copies: the photos go with the copy
        from datetime import timedelta

        from webapp.admin.models import get_settings
        row = db.session.get(FirstArticle, article_id)
        row.decided_at = row.decided_at - timedelta(days=get_settings().signed_copy_days + 1)
        db.session.commit()
    assert customer.get(path).status_code == 410
    assert customer.get(photo_url).status_code == 404


def test_the_customer_rejects_and_mass_production_still_waits(app, qc, work_order):
    set_first_article(app, "always")
    article_id = make_first_article(app, qc, work_order.id)
    path = customer_path(app, "first_article", article_id)
    customer = app.test_client()
    response = customer.post(path + "/first-article",
                             data={"decision": "reject", "name": "Ann", "comment": "Edge too sharp"})
    assert response.status_code == 303
    assert get(app, FirstArticle, article_id).status == "rejected"
    with app.app_context():
        assert first_article_blocks(db.session.get(WorkOrder, work_order.id)) is not None


def test_expired_replaced_and_unknown_links_answer_404(app, qc, work_order):
    article_id = make_first_article(app, qc, work_order.id)
    path = customer_path(app, "first_article", article_id)
    customer = app.test_client()
    assert customer.get("/c/not-a-real-token").status_code == 404
    assert customer.post("/c/not-a-real-token/first-article", data={"decision": "approve", "name": "x"}).status_code == 404
    # a new link replaces the old one
    assert qc.post(f"/quality/first-articles/{article_id}/send").status_code == 303
    assert customer.get(path).status_code == 404
    newer = customer_path(app, "first_article", article_id)
    with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
        assert customer.get(newer).status_code == 404
        response = customer.post(newer + "/first-article", data={"decision": "approve", "name": "Ann", "comment": ""})
        assert response.status_code == 404
    assert get(app, FirstArticle, article_id).status == "sent"
    # another object's photo is not served through this link
    assert customer.get(newer + "/first-article/photos/999999").status_code == 404


def test_first_articles_need_the_right_role(app, qc, as_user, work_order):
    sales = as_user("sales")
    assert sales.post(f"/quality/wo/{work_order.id}/first-article", data={"kind": "sample"}).status_code == 403
    assert qc.post("/quality/wo/999999/first-article", data={"kind": "sample"}).status_code == 404
    response = qc.post(f"/quality/wo/{work_order.id}/first-article", data={"kind": "sample"})
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    again = qc.post(f"/quality/wo/{work_order.id}/first-article", data={"kind": "sample"})
    assert int(again.headers["Location"].rsplit("/", 1)[1]) == article_id  # the open one, not a second
    assert sales.post(f"/quality/first-articles/{article_id}/send").status_code == 403
    assert sales.get(f"/quality/first-articles/{article_id}").status_code == 200
    assert as_user("worker").get(f"/quality/first-articles/{article_id}").status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Inspection)) == 1
        assert links.current("first_article", article_id) is None


@pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                 pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_taps_at_once_decide_once(app, as_user, work_order):
    """The customer taps Approve on two phones (or twice) at the same moment: one decision is kept,
    the other answers that it was already decided; one event on the timeline."""
    import threading
    qc = as_user("qc", username="inspector", name="Ines Inspector")
    article_id = make_first_article(app, qc, work_order.id)
    path = customer_path(app, "first_article", article_id)
    clients = [app.test_client() for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses = [None] * len(clients)

    def tap(index):
        barrier.wait()
        decision = "approve" if index % 2 == 0 else "reject"
        response = clients[index].post(path + "/first-article",
                                       data={"decision": decision, "name": f"Phone {index}", "comment": "ok"})
        statuses[index] = response.status_code

    threads = [threading.Thread(target=tap, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * len(clients)
    with app.app_context():
        decided = db.session.scalars(db.select(audit.AuditEvent).where(
            audit.AuditEvent.action.in_(("first_article.approved", "first_article.rejected")))).all()
        assert len(decided) == 1
        article = db.session.get(FirstArticle, article_id)
        assert article.status in ("approved", "rejected") and article.decided_by_name == decided[0].actor_label


@pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                 pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)], indirect=True)
def test_inspections_started_at_once_get_distinct_numbers(app, as_user, make_order):
    """Four inspectors start first articles of four work orders at the same moment: four numbers."""
    import threading
    orders = [make_order("in_production", customer=f"C{i}") for i in range(4)]
    with app.app_context():
        work_orders = [db.session.scalar(db.select(WorkOrder.id).where(WorkOrder.order_id == o)) for o in orders]
    clients = [as_user("qc") for _ in range(4)]
    barrier = threading.Barrier(4)
    statuses = [None] * 4

    def start(index):
        barrier.wait()
        statuses[index] = clients[index].post(f"/quality/wo/{work_orders[index]}/first-article",
                                              data={"kind": "sample"}).status_code

    threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * 4
    with app.app_context():
        numbers = sorted(db.session.scalars(db.select(Inspection.number)))
    assert len(numbers) == 4 and [int(n[-4:]) for n in numbers] == [1, 2, 3, 4]


def test_a_first_article_that_fails_our_inspection_is_not_sent(app, qc, work_order):
    response = qc.post(f"/quality/wo/{work_order.id}/first-article", data={"kind": "first_piece"})
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    inspection_id = get(app, FirstArticle, article_id).inspection_id
    assert qc.post(f"/quality/inspections/{inspection_id}/decide",
                   data={"decision": "fail", "note": "burr"}).status_code == 303
    assert get(app, FirstArticle, article_id).status == "rejected"
    assert "Failed our inspection: not sent" in text_of(qc.get(f"/quality/first-articles/{article_id}"))
    assert qc.post(f"/quality/first-articles/{article_id}/send").status_code == 409
    again = qc.post(f"/quality/wo/{work_order.id}/first-article", data={"kind": "first_piece"})
    assert int(again.headers["Location"].rsplit("/", 1)[1]) != article_id  # a new one
