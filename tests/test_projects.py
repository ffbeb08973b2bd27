"""Service projects: deliverables with milestones, progress by staff, and the customer's acceptance on
their phone (per deliverable accept or reject with a comment, signed), a rejection's rework with its
clock, everything accepted delivering the order, and the signed copy as a PDF — on SQLite and PostgreSQL."""
import io
import re
from datetime import date, timedelta

import pytest

from webapp import links
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.projects.models import Acceptance, Deliverable, DeliverableReport, ReworkCase

from .helpers import SIGNATURE, at_once, customer_path, jpeg_file, text_of

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def project_form(customer_id, titles=("Market study report", "Workshop day", "Final presentation"), **extra):
    data = {"customer_id": customer_id, "delivery_date": (date.today() + timedelta(days=40)).isoformat(),
            "customer_po": "PO-77", "notes": "Scope as agreed"}
    for i, title in enumerate(titles):
        data.update({f"rows-{i}-title": title, f"rows-{i}-price": "12,000",
                     f"rows-{i}-due_date": (date.today() + timedelta(days=10 * (i + 1))).isoformat(),
                     f"rows-{i}-milestones": "Draft\nReview"})
    data.update(extra)
    return data


@pytest.fixture
def make_project(app, as_user, make_customer):
    """A project made through its form and taken to effective through the real services; returns
    (order id, sales client)."""
    def make(abbreviation="PRJ", titles=("Market study report", "Workshop day", "Final presentation")):
        from webapp.firm import get_settings
        from webapp.orders import services
        customer_id = make_customer(abbreviation, locale="zh")
        sales = as_user("sales", "operations")
        response = sales.post("/projects/new", data=project_form(customer_id, titles))
        assert response.status_code == 303, text_of(response)[:2000]
        order_id = int(re.search(r"/orders/(\d+)", response.headers["Location"]).group(1))
        with app.app_context(), app.test_request_context("/", method="POST"):
            settings = get_settings()
            settings.reviews_required, settings.manager_approval, settings.finance_approval = "", False, False
            order = db.session.get(Order, order_id)
            services.submit(order, order.sales_rep)
            assert order.status == "awaiting_countersign"
            services.countersign(order, links.current("order_countersign", order.id), "Ann", "", SIGNATURE,
                                 "127.0.0.1", "test")
            assert order.status == "effective"
            db.session.commit()
        response = sales.post(f"/projects/{order_id}/acceptance-link")
        assert response.status_code == 303
        return order_id, sales
    return make


def deliverable_ids(app, order_id):
    with app.app_context():
        return [d.id for d in db.session.scalars(db.select(Deliverable).where(Deliverable.order_id == order_id)
                                                 .order_by(Deliverable.position))]


def decide(client, path, decisions, name="李经理", strokes=SIGNATURE, consent="y"):
    data = {"name": name, "strokes": strokes, "consent": consent}
    for deliverable_id, (choice, comment) in decisions.items():
        data[f"decision-{deliverable_id}"] = choice
        data[f"comment-{deliverable_id}"] = comment
    return client.post(path + "/accept", data=data)


@BOTH
def test_project_form_makes_deliverables_lines_and_milestones(app, make_project):
    """Three deliverables become three order lines ("12,000" read as twelve thousand) with their milestones."""
    order_id, sales = make_project()
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.kind == "project" and len(order.lines) == 3
        assert str(order.total_excl) == "36000.00"
        deliverables = db.session.scalars(db.select(Deliverable).where(Deliverable.order_id == order_id)).all()
        assert [len(d.milestones) for d in deliverables] == [2, 2, 2]
    page = text_of(sales.get(f"/projects/{order_id}"))
    assert "Market study report" in page and "Workshop day" in page
    order_page = text_of(sales.get(f"/orders/{order_id}"))  # the deliverables instead of shipping
    assert "Deliverables and acceptance" in order_page and "Awaiting acceptance" in order_page
    assert f"/shipping/orders/{order_id}" not in order_page


@BOTH
def test_project_form_refuses_no_deliverable_and_bad_price(app, as_user, make_customer):
    """No deliverable, or a price "1234,5", keeps the form with a clear message and saves nothing."""
    customer_id = make_customer("PRB")
    sales = as_user("sales")
    response = sales.post("/projects/new", data=project_form(customer_id, titles=()))
    assert response.status_code == 422 and "Add at least one deliverable." in text_of(response)
    response = sales.post("/projects/new", data=project_form(customer_id, titles=("A",), **{"rows-0-price": "1234,5"}))
    assert response.status_code == 422 and "A comma only separates thousands" in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


@BOTH
def test_progress_report_with_photo_and_milestone(app, make_project):
    """Staff report 100 % on a milestone with a photo: the milestone is done, the deliverable at 100 %."""
    order_id, sales = make_project()
    first = deliverable_ids(app, order_id)[0]
    with app.app_context():
        milestone_id = db.session.get(Deliverable, first).milestones[0].id
    response = sales.post(f"/projects/{order_id}/deliverables/{first}/progress",
                          data={f"p{first}-percent": "100", f"p{first}-milestone_id": str(milestone_id),
                                f"p{first}-note": "初稿已交", f"p{first}-photos": (jpeg_file(), "scan.jpg"),
                                f"p{first}-documents": (io.BytesIO(b"%PDF-1.4 report"), "调研报告.pdf")},
                          content_type="multipart/form-data")
    assert response.status_code == 303, text_of(response)[:1000]
    with app.app_context():
        deliverable = db.session.get(Deliverable, first)
        assert deliverable.progress_pct == 100 and deliverable.milestones[0].done_at is not None
        assert db.session.scalar(db.select(db.func.count(DeliverableReport.id))) == 1
    response = sales.post(f"/projects/{order_id}/deliverables/{first}/progress", data={f"p{first}-percent": "140"})
    assert response.status_code == 422
    # the document downloads for staff and through the customer's acceptance link, nowhere else
    from webapp.projects.models import DeliverableFile
    with app.app_context():
        file_id = db.session.scalars(db.select(DeliverableFile.id)).one()
    download = sales.get(f"/projects/{order_id}/files/{file_id}", buffered=True)
    download.close()  # a file's answer holds it open until closed
    assert download.status_code == 200 and download.data.startswith(b"%PDF") and "attachment" in download.headers["Content-Disposition"]
    path = customer_path(app, "project_acceptance", order_id)
    customer_copy = app.test_client().get(f"{path}/deliverable-files/{file_id}", buffered=True)
    customer_copy.close()
    assert customer_copy.data.startswith(b"%PDF")
    assert "调研报告.pdf" in text_of(app.test_client().get(path))
    assert app.test_client().get("/c/" + "A" * 32 + f"/deliverable-files/{file_id}").status_code == 404
    bad = sales.post(f"/projects/{order_id}/deliverables/{first}/progress",
                     data={f"p{first}-percent": "50", f"p{first}-documents": (io.BytesIO(b"MZ..."), "tool.exe")},
                     content_type="multipart/form-data")
    assert bad.status_code == 422 and "This file type is not accepted" in text_of(bad)


@BOTH
def test_acceptance_with_rejection_rework_then_delivery(app, make_project, client):
    """The customer accepts one, rejects one with a comment (a rework case with a due time opens),
    leaves one open; staff hand the rework over; the customer accepts the rest: the order is delivered,
    the link becomes the copy, and the PDF copy downloads."""
    order_id, sales = make_project()
    first, second, third = deliverable_ids(app, order_id)
    path = customer_path(app, "project_acceptance", order_id)
    page = client.get(path)
    assert page.status_code == 200 and "Workshop day" in text_of(page)
    response = decide(client, path, {first: ("accept", ""), second: ("reject", "数据不完整"), third: ("", "")})
    assert response.status_code == 303
    with app.app_context():
        statuses = [db.session.get(Deliverable, i).status for i in (first, second, third)]
        assert statuses == ["accepted", "rework", "open"]
        case = db.session.scalars(db.select(ReworkCase)).one()
        assert case.reason == "数据不完整" and case.due_at > case.opened_at
        assert db.session.get(Order, order_id).status == "effective"
    home = text_of(sales.get("/"))  # the rework waits in My work with its clock
    assert "Rework “Workshop day” within 3 working days" in home and "数据不完整" in home
    response = sales.post(f"/projects/{order_id}/deliverables/{second}/hand-over", data={f"h{second}-note": "补充数据"})
    assert response.status_code == 303
    assert "Rework “Workshop day”" not in text_of(sales.get("/"))
    response = decide(client, path, {second: ("accept", ""), third: ("accept", "")})
    assert response.status_code == 303
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "delivered"
        assert db.session.scalars(db.select(ReworkCase)).one().status == "done"
        assert db.session.scalar(db.select(db.func.count(Acceptance.id))) == 2
    from email import message_from_bytes, policy
    from pathlib import Path
    mails = [message_from_bytes(m.read_bytes(), policy=policy.default) for m in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    bodies = [(m["Subject"], m.get_body(("plain",)).get_content()) for m in mails]
    # the customer was asked (and asked again after the rework) on the same link; the rep heard of the rejection
    assert sum(path in body for _s, body in bodies) == 2, bodies
    assert any("数据不完整" in body for _s, body in bodies)
    # after-sales: the follow-up is planned as for a delivered order
    from webapp.aftersales.models import FollowUp
    with app.app_context():
        assert db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order_id)) is not None
    copy = client.get(path)
    assert copy.status_code == 200 and "Download your signed copy (PDF)" in text_of(copy)
    pdf = client.get(path + "/acceptance-copy.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from pdfminer.high_level import extract_text
    text = extract_text(io.BytesIO(pdf.data))
    assert "数据不完整" in text
    # sent again after everything is accepted: nothing changes, the copy is shown
    again = decide(client, path, {third: ("accept", "")})
    assert again.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acceptance.id))) == 2


@BOTH
def test_rejection_without_comment_is_refused(app, make_project, client):
    """A rejection without a comment keeps the page with the message and what was chosen; nothing is recorded."""
    order_id, _sales = make_project()
    first, second, _third = deliverable_ids(app, order_id)
    path = customer_path(app, "project_acceptance", order_id)
    response = decide(client, path, {first: ("accept", ""), second: ("reject", "  ")})
    assert response.status_code == 422
    assert "Say what is wrong when you reject it." in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acceptance.id))) == 0
        assert db.session.get(Deliverable, first).status == "open"


@BOTH
def test_missing_signature_consent_or_decision_is_refused(app, make_project, client):
    """No signature, no consent, or no decision at all: 422 with the message, nothing recorded."""
    order_id, _sales = make_project()
    first = deliverable_ids(app, order_id)[0]
    path = customer_path(app, "project_acceptance", order_id)
    assert "Sign in the box." in text_of(decide(client, path, {first: ("accept", "")}, strokes=""))
    assert decide(client, path, {first: ("accept", "")}, consent="").status_code == 422
    assert "Accept or reject at least one deliverable." in text_of(decide(client, path, {}))
    assert decide(client, path, {first: ("accept", "")}, strokes="[1,2]").status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acceptance.id))) == 0


@BOTH
def test_accepting_twice_is_refused_clearly(app, make_project, client):
    """A deliverable accepted already cannot be accepted again: 409 with the message."""
    order_id, _sales = make_project()
    first, second, _third = deliverable_ids(app, order_id)
    path = customer_path(app, "project_acceptance", order_id)
    assert decide(client, path, {first: ("accept", "")}).status_code == 303
    response = decide(client, path, {first: ("accept", ""), second: ("accept", "")})
    assert response.status_code == 409
    assert "This deliverable has already been accepted." in text_of(response)
    with app.app_context():
        assert db.session.get(Deliverable, second).status == "open"


@BOTH
def test_accepting_at_once_from_two_phones_records_once(app, make_project, make_user):
    """The same deliverable accepted from two phones at the same moment: one is recorded, the other refused."""
    order_id, _sales = make_project(titles=("Only report",))
    (only,) = deliverable_ids(app, order_id)
    path = customer_path(app, "project_acceptance", order_id)
    make_user("sales", username="phone")
    data = {"name": "王", "strokes": SIGNATURE, "consent": "y", f"decision-{only}": "accept", f"comment-{only}": ""}
    statuses = at_once(app, "phone", [(path + "/accept", data), (path + "/accept", data)])
    assert sorted(statuses) in ([303, 303], [303, 409]), statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acceptance.id))) == 1
        assert db.session.get(Order, order_id).status == "delivered"


@BOTH
def test_another_projects_token_and_a_forged_deliverable_do_nothing(app, make_project, client):
    """A deliverable of another project posted through this project's link is ignored; another kind
    of link (a countersign link) opens no acceptance; an unknown token is 404."""
    order_a, _s = make_project("PRA", titles=("A report",))
    order_b, _s2 = make_project("PRC", titles=("B report",))
    (deliverable_b,) = deliverable_ids(app, order_b)
    path_a = customer_path(app, "project_acceptance", order_a)
    response = decide(client, path_a, {deliverable_b: ("accept", "")})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Deliverable, deliverable_b).status == "open"
    assert client.post("/c/" + "A" * 32 + "/accept", data={}).status_code == 404
    with app.app_context(), app.test_request_context():
        from webapp.orders.models import Countersignature
        link_id = db.session.scalar(db.select(Countersignature.link_id).where(Countersignature.order_id == order_a))
        token = db.session.get(links.AccessLink, link_id).token
    assert decide(client, "/c/" + token, {}).status_code == 404
    assert client.get(path_a + "/acceptance-copy.pdf").status_code == 404  # nothing signed yet


@BOTH
def test_project_skips_production_and_shipping(app, make_project, as_user):
    """A project cannot be released to production nor shipped: clear 409s."""
    order_id, sales = make_project()
    operations = as_user("operations")
    response = operations.post(f"/orders/{order_id}/do/start_production", data={})
    assert response.status_code in (303, 409)
    with app.app_context():
        assert db.session.get(Order, order_id).status == "effective"
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.shipping import services as shipping
        from webapp.statemachine import TransitionError
        order = db.session.get(Order, order_id)
        with pytest.raises(TransitionError):
            shipping.create_shipment(order, order.sales_rep, {order.lines[0].id: 1}, {}, "delivery", "", "", None, 0)


def test_the_customers_order_page_follows_a_project_by_its_deliverables(app, make_project, client):
    """The order's page for the customer shows a project's own steps (confirmed, in progress, accepted),
    its deliverables with their state, the button to accept them while any is open, and once all are
    accepted the signed acceptance's PDF — no production, inspection or shipping steps."""
    order_id, _sales = make_project()
    first, second, third = deliverable_ids(app, order_id)
    page_path = customer_path(app, "order_service", order_id)
    accept_path = customer_path(app, "project_acceptance", order_id)
    page = text_of(client.get(page_path))
    assert "In progress" in page and "In production" not in page and "Shipped" not in page
    assert "Market study report" in page and "Check and accept the deliverables" in page
    assert accept_path in page
    decide(client, accept_path, {first: ("accept", ""), second: ("accept", ""), third: ("accept", "")})
    page = text_of(client.get(page_path))
    assert 'aria-current="step"' in page and "Check and accept the deliverables" not in page
    assert "Signed acceptance (PDF)" in page and "/acceptance-copy.pdf" in page
