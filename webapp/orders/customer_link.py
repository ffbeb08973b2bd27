"""The customer's side of an order, on their own phone and without an account: the frozen terms to
countersign through their "order_countersign" link, and the read-only copy a used link keeps
showing. The routes are the customer links' own (the public blueprint, /c/<token>)."""
import json

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .. import links
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..public import bp as public_bp
from ..public import copies
from ..public.copies import link_keeps_copy, within_retention
from ..signatures import SignatureError
from . import services
from .forms import SignatureForm
from .models import Countersignature, Order, OrderVersion


def _sign_page(link, order, form=None, status=200):
    version = db.session.scalar(db.select(OrderVersion).where(
        OrderVersion.order_id == order.id, OrderVersion.version == order.version))
    return render("public/countersign.html", link=link, order=order, terms=version.terms,
                  sha256=version.sha256, form=form or SignatureForm(),
                  consent=services.consent_text(), status_code=status)


def open_countersign(link):
    """The order an "order_countersign" link is for, to countersign."""
    order = load(Order, link.object_id, None)
    if order.status != "awaiting_countersign":
        abort(404)
    return _sign_page(link, order)


@public_bp.post("/c/<token>/sign")
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
        services.countersign(
            order, link, form.name.data.strip(), (form.title.data or "").strip(), form.strokes.data,
            request.remote_addr or "", request.user_agent.string or "")
    except SignatureError:
        form.strokes.errors = [_("The signature could not be read. Clear the box and sign again.")]
        return _sign_page(link, order, form, status=422)
    flash(_("Order %(number)s is countersigned. This page keeps what you signed.", number=order.number), "thanks")
    return see_other(url_for("public.open_link", token=token))


def countersign_copy(link: links.AccessLink):
    """The terms the customer countersigned through this link, with their signature."""
    signature = db.session.scalar(db.select(Countersignature).where(Countersignature.link_id == link.id))
    if signature is None:
        abort(404)
    order = db.session.get(Order, signature.order_id)
    return copies.render_copy("public/countersign_copy.html", link, signature.signed_at, order.sales_rep,
                              order=order, signature=signature, signature_svg=Markup(signature.signature_svg),
                              terms=json.loads(signature.terms_json), amended=order.version > signature.version)


def signature_for(token: str) -> Countersignature | None:
    """The countersignature made through this link (see public.copies.link_keeps_copy), or None."""
    link = links.find(token)
    if not link_keeps_copy(link, "order_countersign"):
        return None
    return db.session.scalars(db.select(Countersignature).where(Countersignature.link_id == link.id)
                              .order_by(Countersignature.id.desc()).limit(1)).first()


@public_bp.app_template_global()
def countersign_copy_url(token: str | None) -> str | None:
    """Where the PDF copy for a countersign token downloads from, while there is one to download."""
    signature = signature_for(token) if token else None
    if signature is None or not within_retention(signature.signed_at):
        return None
    return url_for("public.countersign_copy_pdf", token=token)


