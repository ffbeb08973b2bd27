"""Admin pages for outgoing webhooks: the endpoints, their secrets (shown once), and each delivery
with its tries and last answer, which the admin may send again."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..permissions import requires
from ..statemachine import N_
from ..webhooks import (EVENT_TYPES, TEST_EVENT, TargetRefused, WebhookDelivery, WebhookEndpoint, WebhookEvent,
                        delivery, endpoints)
from . import bp
from .forms import WebhookForm

DELIVERY_STATUS = {"pending": N_("Waiting to be sent"), "delivered": N_("Accepted by the receiver"), "failed": N_("Given up")}
RECENT_DELIVERIES = 100


def _labels() -> dict:
    """Every event type's translated label, the test event's too."""
    return {**{name: _(label) for name, label in EVENT_TYPES.items()}, TEST_EVENT: _("Test event")}


def _secret_page(endpoint: WebhookEndpoint, secret: str, status_code: int = 200):
    """The page that shows a new secret, once: never cached, never shown again."""
    response = render("admin/webhook_secret.html", endpoint=endpoint, secret=secret, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _deliveries(endpoint_id: int | None = None) -> list[WebhookDelivery]:
    query = (db.select(WebhookDelivery).join(WebhookEvent)
             .options(db.joinedload(WebhookDelivery.event), db.joinedload(WebhookDelivery.endpoint))
             .order_by(WebhookDelivery.id.desc()).limit(RECENT_DELIVERIES))
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return db.session.scalars(query).all()


@bp.get("/webhooks")
@login_required
@requires("admin.manage")
def webhooks():
    """List the webhook endpoints and the latest deliveries."""
    found = db.session.scalars(db.select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render("admin/webhooks.html", endpoints=found, deliveries=_deliveries(), labels=_labels(),
                  statuses=DELIVERY_STATUS)


@bp.route("/webhooks/new", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def webhook_new():
    """Add an endpoint; its secret is shown once, on the answer to this form."""
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = endpoints.create(form.url.data, form.events.data, form.description.data or "",
                                                form.allow_private.data, current_user)
        except TargetRefused as refused:
            form.url.errors.append(_(refused.message))
        else:
            return _secret_page(endpoint, secret, status_code=201)
    return render("admin/webhook_form.html", form=form, endpoint=None, status_code=422 if form.errors else 200)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def webhook(endpoint_id: int):
    """An endpoint: change it, and its deliveries with their tries and last answers."""
    endpoint = load(WebhookEndpoint, endpoint_id, "admin.manage")
    form = WebhookForm(obj=endpoint)
    if request.method == "GET":
        form.events.data = endpoint.event_types
    if form.validate_on_submit():
        try:
            endpoints.update(endpoint, form.url.data, form.events.data, form.description.data or "",
                             form.allow_private.data, current_user)
        except TargetRefused as refused:
            form.url.errors.append(_(refused.message))
        else:
            flash(_("Endpoint saved."))
            return see_other(url_for("admin.webhook", endpoint_id=endpoint.id))
    return render("admin/webhook.html", endpoint=endpoint, form=form, deliveries=_deliveries(endpoint.id),
                  labels=_labels(), statuses=DELIVERY_STATUS, status_code=422 if form.errors else 200)


@bp.post("/webhooks/<int:endpoint_id>/active")
@login_required
@requires("admin.manage")
def webhook_active(endpoint_id: int):
    """Enable or disable an endpoint."""
    endpoint = load(WebhookEndpoint, endpoint_id, "admin.manage")
    endpoints.set_active(endpoint, not endpoint.active, current_user)
    flash(_("Endpoint enabled.") if endpoint.active else _("Endpoint disabled: events wait until it is enabled again."))
    return see_other(url_for("admin.webhook", endpoint_id=endpoint.id))


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@login_required
@requires("admin.manage")
def webhook_rotate(endpoint_id: int):
    """Give an endpoint a new secret, shown once on the answer."""
    endpoint = load(WebhookEndpoint, endpoint_id, "admin.manage")
    secret = endpoints.rotate(endpoint, current_user)
    return _secret_page(endpoint, secret)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@login_required
@requires("admin.manage")
def webhook_delete(endpoint_id: int):
    """Delete an endpoint and its deliveries."""
    endpoint = load(WebhookEndpoint, endpoint_id, "admin.manage")
    endpoints.delete(endpoint, current_user)
    flash(_("Endpoint deleted."))
    return see_other(url_for("admin.webhooks"))


@bp.post("/webhooks/<int:endpoint_id>/test")
@login_required
@requires("admin.manage")
def webhook_test(endpoint_id: int):
    """Send a test event to an endpoint (after the commit, like every event)."""
    endpoint = load(WebhookEndpoint, endpoint_id, "admin.manage")
    endpoints.send_test(endpoint, current_user)
    flash(_("Test event queued: its delivery is listed below."))
    return see_other(url_for("admin.webhook", endpoint_id=endpoint.id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
@login_required
@requires("admin.manage")
def webhook_resend(delivery_id: int):
    """Send one delivery again, with the same event id and body."""
    found = load(WebhookDelivery, delivery_id, "admin.manage")
    delivery.resend(found)
    flash(_("Delivery queued to be sent again."))
    return see_other(url_for("admin.webhook", endpoint_id=found.endpoint_id))
