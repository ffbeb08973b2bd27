"""What a customer's used link opens: a read-only copy of what they confirmed or signed.

A used requirement, countersign or receipt link is no longer a key (nothing can be submitted through
it again) but it stays the customer's receipt: for the firm's `signed_copy_days` after signing it
shows what was confirmed or signed, with the firm's name and the sales contact. After that the copy
is gone (410 with a page that says so and whom to ask). Unknown links and links withdrawn before they
were used stay the plain 404 that any unknown URL gives.
"""
from datetime import datetime, timedelta

from flask import abort, flash, get_flashed_messages, url_for
from flask_babel import gettext as _

from .. import links, registry
from ..contacts import tel_href
from ..firm import get_settings
from ..htmx import render, see_other
from ..wallclock import utcnow


def was_used(link: links.AccessLink | None) -> bool:
    """Whether link was used by the customer (and not withdrawn before that). A new round, an amendment or
    a replaced link revokes every earlier link of the object, used ones too: that housekeeping does not
    take the customer's copy away. Only links whose use leaves the customer something to keep count
    (their purpose registered a copy: registry.copy_purposes())."""
    if link is None or link.used_at is None or link.purpose not in registry.copy_purposes():
        return False
    return link.revoked_at is None or link.revoked_at >= link.used_at


def kept_until(signed_at: datetime) -> datetime:
    """Until when the link shows the copy of something signed at signed_at."""
    return signed_at + timedelta(days=get_settings().signed_copy_days)


def within_retention(signed_at) -> bool:
    """Whether a copy signed at signed_at may still be downloaded (the copy pages' own period)."""
    return utcnow() < kept_until(signed_at)


def link_keeps_copy(link, purpose: str) -> bool:
    """Whether a customer's link leads to their copy: the rule of the copy pages (was_used: used, and
    not withdrawn before that), or a link of theirs still live (a receipt signed on the courier's
    phone leaves the customer's own link unused). Unknown links, links of another kind and links
    withdrawn or expired unused lead to nothing."""
    return link is not None and link.purpose == purpose and (link.is_live or was_used(link))


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
    return registry.link_purpose(link.purpose).copy(link)
