"""What a customer's used link opens: a read-only copy of what they confirmed or signed.

A used requirement, countersign or receipt link is no longer a key (nothing can be submitted through
it again) but it stays the customer's receipt: for the firm's `signed_copy_days` after signing it
shows what was confirmed or signed, with the firm's name and the sales contact. After that the copy
is gone (410 with a page that says so and whom to ask). Unknown links and links withdrawn before they
were used stay the plain 404 that any unknown URL gives.
"""
import json
from datetime import datetime, timedelta

from flask import abort, flash, get_flashed_messages, url_for
from flask_babel import gettext as _

from .. import links
from ..admin.models import get_settings
from ..contacts import tel_href
from ..extensions import db
from ..htmx import render, see_other
from ..wallclock import utcnow

# The links whose use leaves the customer something to keep.
COPY_PURPOSES = ("requirement_confirm", "order_countersign", "delivery_receipt")


def was_used(link: links.AccessLink | None) -> bool:
    """Whether link was used by the customer (and not withdrawn before that). A new round, an amendment or
    a replaced link revokes every earlier link of the object, used ones too: that housekeeping does not
    take the customer's copy away."""
    if link is None or link.used_at is None or link.purpose not in COPY_PURPOSES:
        return False
    return link.revoked_at is None or link.revoked_at >= link.used_at


def kept_until(signed_at: datetime) -> datetime:
    """Until when the link shows the copy of something signed at signed_at."""
    return signed_at + timedelta(days=get_settings().signed_copy_days)


def sales_contact(user) -> dict:
    """The firm's name and the salesperson the customer can call or write to."""
    phone = (user.phone or "") if user else ""
    return {"firm": get_settings().firm_name, "name": user.name if user else "", "phone": phone,
            "tel": tel_href(phone), "email": (user.email or "") if user else ""}


def render_copy(template: str, link, signed_at: datetime, contact_user, thanks: str | None = None, **context):
    """The copy page, or 410 with the "no longer online" page once the retention period is over. Right
    after sending, "Thank you" and what happens next head the page (thanks, or flashed as "thanks")."""
    until = kept_until(signed_at)
    contact = sales_contact(contact_user)
    if utcnow() >= until:
        return render("public/copy_gone.html", contact=contact, signed_at=signed_at,
                      days=get_settings().signed_copy_days, status_code=410)
    messages = get_flashed_messages(category_filter=["thanks"]) + ([thanks] if thanks else [])
    return render(template, link=link, signed_at=signed_at, kept_until=until, contact=contact, thanks=messages,
                  **context)


def refuse_second_submission(token: str, purposes: tuple[str, ...], message: str | None = None) -> None:
    """A form sent again through a used link (a double tap, the back button, a replay) changes nothing:
    the customer is sent to the copy of what they already sent. Other links fall through."""
    link = links.find(token)
    if link is not None and link.purpose in purposes and was_used(link):
        flash(message or _("You already sent this. Nothing was changed; here is what you sent."))
        abort(see_other(url_for("public.open_link", token=token)))


def open_copy(link: links.AccessLink):
    """The copy a used link opens (404 for a link that was never used or is of another kind)."""
    if not was_used(link):
        abort(404)
    if link.purpose == "requirement_confirm":
        return requirement_copy(link)
    if link.purpose == "order_countersign":
        return countersign_copy(link)
    from ..shipping import views as shipping_views
    return shipping_views.receipt_copy(link)


def requirement_copy(link: links.AccessLink):
    """The record as the customer saw it in the round they answered, and their answer."""
    from ..requirements.models import Requirement
    requirement = db.session.get(Requirement, link.object_id)
    answered = [r for r in requirement.rounds if r.responded_at is not None] if requirement else []
    if not answered:
        abort(404)
    # The round this link answered: respond() stamps the round and the link at the same instant.
    answered_round = min(answered, key=lambda r: abs((r.responded_at - link.used_at).total_seconds()))
    return render_copy("public/requirement_copy.html", link, answered_round.responded_at, requirement.sales_rep,
                       requirement=requirement, round=answered_round, record=json.loads(answered_round.snapshot),
                       newer_round=answered_round.number < len(requirement.rounds))


def countersign_copy(link: links.AccessLink):
    """The terms the customer countersigned through this link, with their signature."""
    from markupsafe import Markup

    from ..orders.models import Countersignature, Order
    signature = db.session.scalar(db.select(Countersignature).where(Countersignature.link_id == link.id))
    if signature is None:
        abort(404)
    order = db.session.get(Order, signature.order_id)
    return render_copy("public/countersign_copy.html", link, signature.signed_at, order.sales_rep, order=order,
                       signature=signature, signature_svg=Markup(signature.signature_svg),
                       terms=json.loads(signature.terms_json), amended=order.version > signature.version)
