"""The customer's side: confirm a requirement, countersign an order — on their own phone."""
import json

from flask import Response, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import links
from ..extensions import db
from ..htmx import render, see_other
from ..orders import services as order_services
from ..orders.forms import SignatureForm
from ..orders.models import Countersignature, Order, OrderVersion
from ..permissions import can
from ..requirements import services as requirement_services
from ..requirements.forms import ClarificationForm, ConfirmForm
from ..requirements.models import Attachment, Requirement
from ..requirements.views import send_attachment
from ..signatures import SignatureError
from . import bp


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
    """Open a customer link: the requirement to confirm, or the order to countersign."""
    link = links.resolve(token)
    if link.purpose == "requirement_confirm":
        requirement = db.get_or_404(Requirement, link.object_id)
        if requirement.status != "sent":
            abort(404)
        return _requirement_page(link, requirement)
    if link.purpose in ("courier", "delivery_receipt"):
        from ..shipping import views as shipping_views
        if link.purpose == "courier":
            return shipping_views.courier_page(link)
        return shipping_views.receipt_page(link)
    if link.purpose in ("order_service", "survey"):
        from ..aftersales import views as aftersales_views
        return aftersales_views.open_customer_link(link)
    order = db.get_or_404(Order, link.object_id)
    if order.status != "awaiting_countersign":
        abort(404)
    return _sign_page(link, order)


@bp.post("/c/<token>/confirm")
def confirm_requirement(token: str):
    """The customer confirms the requirement record as it stands."""
    link = links.resolve(token)
    requirement = _requirement_for(link)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, confirm_form=form, status=422)
    requirement_services.respond(requirement, link, "confirmed", form.name.data.strip())
    return see_other(url_for("public.thanks", kind="confirmed"))


@bp.post("/c/<token>/clarify")
def clarify_requirement(token: str):
    """The customer asks for a clarification with a comment."""
    link = links.resolve(token)
    requirement = _requirement_for(link)
    form = ClarificationForm(prefix="clarify")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, clarify_form=form, status=422)
    requirement_services.respond(requirement, link, "clarification", form.name.data.strip(),
                                 form.comment.data.strip())
    return see_other(url_for("public.thanks", kind="clarification"))


def _requirement_for(link) -> Requirement:
    if link.purpose != "requirement_confirm":
        abort(404)
    requirement = db.get_or_404(Requirement, link.object_id)
    if requirement.status != "sent":
        abort(404)
    return requirement


@bp.get("/c/<token>/files/<int:attachment_id>")
def requirement_file(token: str, attachment_id: int):
    """Download a drawing of the requirement the link is for (and no other)."""
    link = links.resolve(token)
    requirement = _requirement_for(link)
    attachment = db.get_or_404(Attachment, attachment_id)
    if attachment.requirement_id != requirement.id:
        abort(404)
    return send_attachment(attachment)


@bp.post("/c/<token>/sign")
def countersign(token: str):
    """The customer countersigns the frozen terms with name, consent and a drawn signature."""
    link = links.resolve(token)
    if link.purpose != "order_countersign":
        abort(404)
    order = db.get_or_404(Order, link.object_id)
    if order.status != "awaiting_countersign":
        abort(404)
    form = SignatureForm()
    if not form.validate_on_submit():
        return _sign_page(link, order, form, status=422)
    try:
        signature = order_services.countersign(
            order, link, form.name.data.strip(), (form.title.data or "").strip(), form.strokes.data,
            request.remote_addr or "", request.user_agent.string or "")
    except SignatureError:
        form.strokes.errors = [_("The signature could not be read. Clear the box and sign again.")]
        return _sign_page(link, order, form, status=422)
    db.session.flush()
    return see_other(url_for("public.signed", token=token, sig=signature.id))


@bp.get("/c/<token>/signed/<int:sig>")
def signed(token: str, sig: int):
    """Show the customer what they signed (the used link still opens this read-only copy)."""
    import hashlib
    link = db.session.scalar(db.select(links.AccessLink).where(
        links.AccessLink.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    signature = db.session.get(Countersignature, sig)
    if (link is None or link.revoked_at is not None or signature is None
            or signature.link_id != link.id):
        abort(404)
    order = db.session.get(Order, signature.order_id)
    return render("orders/confirmation.html", order=order, signature=signature,
                  signature_svg=Markup(signature.signature_svg), terms=json.loads(signature.terms_json),
                  public=True)


@bp.get("/thanks/<kind>")
def thanks(kind: str):
    """Thank the customer after they answered."""
    if kind not in ("confirmed", "clarification"):
        abort(404)
    return render("public/thanks.html", kind=kind)


@bp.get("/links/<int:link_id>/qr.svg")
@login_required
def link_qr(link_id: int):
    """The QR image of a customer link, for staff to show or print."""
    link = db.get_or_404(links.AccessLink, link_id)
    managers = {"courier": ("shipment.manage",), "delivery_receipt": ("link.manage", "shipment.manage")}
    if not any(can(current_user, action) for action in managers.get(link.purpose, ("link.manage",))) \
            or not link.is_live:
        abort(404)
    return Response(links.qr_svg(link.url), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})
