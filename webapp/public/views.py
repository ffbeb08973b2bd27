"""The customer's side: confirm a requirement, countersign an order — on their own phone."""
import json

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import links, registry
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..orders import services as order_services
from ..orders.forms import SignatureForm
from ..orders.models import Order, OrderVersion
from ..permissions import can
from ..requirements import services as requirement_services
from ..requirements.forms import ClarificationForm, ConfirmForm
from ..requirements.models import Attachment, Requirement
from ..requirements.views import send_attachment
from ..signatures import SignatureError
from . import bp, copies


def _requirement_page(link, requirement, confirm_form=None, clarify_form=None, status=200):
    snapshot = json.loads(requirement.current_round.snapshot)
    return render("public/requirement.html", link=link, requirement=requirement, record=snapshot,
                  confirm_form=confirm_form or ConfirmForm(prefix="confirm"),
                  clarify_form=clarify_form or ClarificationForm(prefix="clarify"), status_code=status)


def _sign_page(link, order, form=None, status=200):
    version = db.session.scalar(db.select(OrderVersion).where(
        OrderVersion.order_id == order.id, OrderVersion.version == order.version))
    return render("public/countersign.html", link=link, order=order, terms=version.terms,
                  sha256=version.sha256, form=form or SignatureForm(),
                  consent=order_services.consent_text(), status_code=status)


@bp.get("/c/<token>")
def open_link(token: str):
    """Open a customer link with the handler its purpose's domain registered (the requirement to
    confirm, the order to countersign, the courier's or customer's delivery page, after-sales); a
    used one opens the read-only copy of what was confirmed or signed."""
    link = links.find(token)
    if link is not None and not link.is_live and copies.was_used(link):
        return copies.open_copy(link)
    link = links.resolve(token)
    purpose = registry.link_purpose(link.purpose)
    if purpose is None:
        abort(404)
    return purpose.open(link)


def open_requirement(link):
    """The requirement a "requirement_confirm" link is for, to confirm or question."""
    requirement = load(Requirement, link.object_id, None)
    if requirement.status != "sent":
        abort(404)
    return _requirement_page(link, requirement)


def open_countersign(link):
    """The order an "order_countersign" link is for, to countersign."""
    order = load(Order, link.object_id, None)
    if order.status != "awaiting_countersign":
        abort(404)
    return _sign_page(link, order)


@bp.post("/c/<token>/confirm")
def confirm_requirement(token: str):
    """The customer confirms the requirement record as it stands."""
    copies.refuse_second_submission(token, ("requirement_confirm",))
    link = links.resolve(token)
    requirement = _requirement_for(link)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, confirm_form=form, status=422)
    requirement_services.respond(requirement, link, "confirmed", form.name.data.strip())
    flash(_("Your requirement is confirmed. We will send you the order terms to countersign."), "thanks")
    return see_other(url_for("public.open_link", token=token))


@bp.post("/c/<token>/clarify")
def clarify_requirement(token: str):
    """The customer asks for a clarification with a comment."""
    copies.refuse_second_submission(token, ("requirement_confirm",))
    link = links.resolve(token)
    requirement = _requirement_for(link)
    form = ClarificationForm(prefix="clarify")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, clarify_form=form, status=422)
    requirement_services.respond(requirement, link, "clarification", form.name.data.strip(),
                                 form.comment.data.strip())
    flash(_("We received your question and will get back to you with a revised record."), "thanks")
    return see_other(url_for("public.open_link", token=token))


def _requirement_for(link) -> Requirement:
    if link.purpose != "requirement_confirm":
        abort(404)
    requirement = load(Requirement, link.object_id, None)
    if requirement.status != "sent":
        abort(404)
    return requirement


@bp.get("/c/<token>/files/<int:attachment_id>")
def requirement_file(token: str, attachment_id: int):
    """Download a drawing of the requirement the link is for (and no other)."""
    link = links.resolve(token)
    requirement = _requirement_for(link)
    attachment = load(Attachment, attachment_id, None)
    if attachment.requirement_id != requirement.id:
        abort(404)
    return send_attachment(attachment)


@bp.post("/c/<token>/sign")
def countersign(token: str):
    """The customer countersigns the frozen terms with name, consent and a drawn signature."""
    copies.refuse_second_submission(token, ("order_countersign",), _(
        "This order is already countersigned. Nothing was changed; here is what you signed."))
    link = links.resolve(token)
    if link.purpose != "order_countersign":
        abort(404)
    order = load(Order, link.object_id, None)
    if order.status != "awaiting_countersign":
        abort(404)
    form = SignatureForm()
    if not form.validate_on_submit():
        return _sign_page(link, order, form, status=422)
    try:
        order_services.countersign(
            order, link, form.name.data.strip(), (form.title.data or "").strip(), form.strokes.data,
            request.remote_addr or "", request.user_agent.string or "")
    except SignatureError:
        form.strokes.errors = [_("The signature could not be read. Clear the box and sign again.")]
        return _sign_page(link, order, form, status=422)
    flash(_("Order %(number)s is countersigned. This page keeps what you signed.", number=order.number), "thanks")
    return see_other(url_for("public.open_link", token=token))


@bp.get("/links/<int:link_id>/qr.svg")
@login_required
def link_qr(link_id: int):
    """The QR image of a customer link, for staff to show or print."""
    link = load(links.AccessLink, link_id, None)
    purpose = registry.link_purpose(link.purpose)
    managers = purpose.managers if purpose is not None else ("link.manage",)
    if not any(can(current_user, action) for action in managers) or not link.is_live:
        abort(404)
    return Response(links.qr_svg(link.url), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})
