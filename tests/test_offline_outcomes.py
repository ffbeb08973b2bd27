"""Offline-capable views return an outcome; one decorator (sync.replay.offline_capable) renders it as a
page for the browser or as JSON for a replay from the phone's outbox, and undoes the request's writes
when nothing may be kept. The actor of a replayed action (person, login session, outbox device) reaches
the audit trail."""
import pytest
from flask import Flask
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import DataRequired

from webapp import audit
from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.forms import OfflineForm
from webapp.sync.models import IdempotencyRecord, SyncConflict
from webapp.sync.outcomes import Applied, Conflict, Invalid, Refused
from webapp.sync.replay import check_decorator_order, offline_capable

from .helpers import text_of
from .test_sync import is_problem, phone, report_data, send  # noqa: F401 (fixtures)


class ThingForm(OfflineForm):
    """One required field, posted as t-name."""

    name = StringField("Name", validators=[DataRequired()])


@offline_capable
@login_required
def outcome_view(kind: str):
    """Writes an audit row, then answers the outcome named in the URL."""
    form = ThingForm(prefix="t")
    audit.record("test.touched", current_user, actor=current_user)
    if kind == "applied":
        return Applied("Done.", "/after", {"id": 7})
    if kind == "invalid":
        form.validate()
        return Invalid(form, lambda: ("the form again", 422), rollback=True)
    if kind == "refused":
        return Refused(403, "Not yours.", lambda: ("refused page", 403), reason="not_yours")
    return Conflict("Too late.", lambda: ("conflict page", 409))


@pytest.fixture
def outcome_app(app):
    """The test app with /test/outcome/<kind> (registered before its first request)."""
    app.add_url_rule("/test/outcome/<kind>", view_func=outcome_view, methods=["POST"])
    check_decorator_order(app)
    return app


def touched(app) -> int:
    """How many of the view's audit rows were kept."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "test.touched"))


@pytest.mark.own_app  # outcome_app adds a route
def test_applied_is_a_redirect_with_the_message_or_201_json(outcome_app, phone):
    page = phone.client.post("/test/outcome/applied", data={"t-name": "x"})
    assert page.status_code == 303 and page.headers["Location"].endswith("/after")
    with phone.client.session_transaction() as session:
        assert ("message", "Done.") in session.get("_flashes", [])
    answer = send(outcome_app, "/test/outcome/applied", phone, phone.worker_id, "k-applied", {"t-name": "x"})
    assert answer.status_code == 201, text_of(answer)[:300]
    assert answer.get_json() == {"status": "applied", "message": "Done.", "id": 7}
    assert touched(outcome_app) == 2  # both kept
    with outcome_app.app_context():
        assert db.session.scalar(db.select(IdempotencyRecord.status_code).where(IdempotencyRecord.key == "k-applied")) == 201


@pytest.mark.own_app  # outcome_app adds a route
def test_invalid_is_the_form_again_or_422_with_messages_by_posted_name(outcome_app, phone):
    page = phone.client.post("/test/outcome/invalid", data={"t-name": ""})
    assert (page.status_code, text_of(page)) == (422, "the form again")
    answer = send(outcome_app, "/test/outcome/invalid", phone, phone.worker_id, "k-invalid", {"t-name": ""})
    body = is_problem(answer, 422)
    assert list(body["errors"]) == ["t-name"] and body["errors"]["t-name"][0]
    assert touched(outcome_app) == 0  # rolled back both times
    with outcome_app.app_context():  # nothing applied: the key is not kept, the phone may send it again fixed
        assert db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == "k-invalid")) is None


@pytest.mark.own_app  # outcome_app adds a route
def test_refused_is_the_page_or_a_problem_with_its_reason(outcome_app, phone):
    page = phone.client.post("/test/outcome/refused", data={"t-name": "x"})
    assert (page.status_code, text_of(page)) == (403, "refused page")
    answer = send(outcome_app, "/test/outcome/refused", phone, phone.worker_id, "k-refused", {"t-name": "x"})
    body = is_problem(answer, 403)
    assert body["reason"] == "not_yours" and body["detail"] == "Not yours."
    assert touched(outcome_app) == 0


@pytest.mark.own_app  # outcome_app adds a route
def test_conflict_is_the_page_or_a_kept_conflict(outcome_app, phone):
    page = phone.client.post("/test/outcome/conflict", data={"t-name": "x"})
    assert (page.status_code, text_of(page)) == (409, "conflict page")
    answer = send(outcome_app, "/test/outcome/conflict", phone, phone.worker_id, "k-conflict", {"t-name": "kept"})
    body = is_problem(answer, 409)
    with outcome_app.app_context():
        conflict = db.session.get(SyncConflict, body["conflict"])
        assert (conflict.key, conflict.device_id, conflict.actor_id) == ("k-conflict", phone.id, phone.worker_id)
        assert '"kept"' in conflict.fields
    assert touched(outcome_app) == 0  # the view's own writes are undone; the conflict is kept


@pytest.mark.own_app  # outcome_app adds a route
def test_a_plain_post_still_needs_its_csrf_token(outcome_app, phone):
    refused = phone.client.post("/test/outcome/applied", data={"t-name": "x"}, csrf=False)
    assert refused.status_code == 400 and touched(outcome_app) == 0


def test_a_decorator_above_offline_capable_stops_the_app_at_startup():
    """login_required above offline_capable would answer a replay with bad credentials by a redirect
    to the login page, which the outbox retries for ever: the app refuses to start."""
    flask_app = Flask(__name__)

    def view():
        return "x"
    flask_app.add_url_rule("/wrong", view_func=login_required(offline_capable(view)), methods=["POST"])
    with pytest.raises(RuntimeError, match="outermost"):
        check_decorator_order(flask_app)
    right = Flask(__name__)
    right.add_url_rule("/right", view_func=offline_capable(login_required(view)), methods=["POST"])
    check_decorator_order(right)


def test_the_outbox_credential_opens_only_offline_capable_views(app, phone):
    """Flask-Login's request loader takes the phone's credential on offline-capable views only: the
    same headers on any other page are nobody."""
    client = app.test_client()
    headers = {"Authorization": f"Device {phone.id}.{phone.secret}", "X-Actor": str(phone.worker_id)}
    assert client.get("/production/", headers=headers).status_code == 302  # to the login page


def test_a_replayed_report_records_its_person_and_outbox_device_in_the_audit_trail(app, phone, work_order):
    """A report replayed from the outbox: the audit row names the worker and the phone's outbox device
    (it has no login session); a report posted live names the login session instead."""
    answer = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "actor-1", report_data(good="2"))
    assert answer.status_code == 201, text_of(answer)[:300]
    live = phone.client.post(f"/w/{work_order.token}/report", data=report_data(good="1"))
    assert live.status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "work_order.progress")
                                  .order_by(AuditEvent.id)).all()
        assert [(r.actor_user_id, r.actor_outbox_device_id, r.actor_device_id is not None) for r in rows] == [
            (phone.worker_id, phone.id, False), (phone.worker_id, None, True)]


def test_after_sales_customer_forms_live_under_c_and_the_old_urls_still_work(app, make_order, as_user):
    """The customer's after-sales forms post to /c/<token>/…, like every customer link (built by
    url_for); a page opened before the change still posts to /aftersales/c/<token>/… and works."""
    from webapp.aftersales.models import Ticket
    from .helpers import customer_path
    from .test_aftersales import receive
    order_id = make_order("in_production")
    receive(app, order_id, delivered=False)
    path = customer_path(app, "order_service", order_id)
    customer = app.test_client()
    page = text_of(customer.get(path))
    assert f'action="{path}/tickets"' in page and "/aftersales/c/" not in page
    data = {"t-name": "Ann", "t-subject": "Missing manual", "t-description": "No manual in box 2"}
    assert customer.post(f"{path}/tickets", data=data).status_code == 303
    assert customer.post(f"/aftersales{path}/tickets", data=data).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 2
        from webapp import links
        link = links.current("order_service", order_id)
        assert link.url == app.config["PUBLIC_URL"].rstrip("/") + path
