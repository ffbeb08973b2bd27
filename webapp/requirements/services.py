"""What happens to a requirement: sending, the customer's answers, attachments."""
import json

from .. import audit, links
from ..extensions import db
from ..notify import Recipient, notify
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, notices  # noqa: F401  (notices: the messages notify() sends)
from .models import Attachment, Requirement, RequirementRound


def fill_from_catalogue(form, replace_pick: bool = False) -> bool:
    """Fill the record's product (the catalogue product's name) and unit from the catalogue product
    picked, when the product field is empty, or (replace_pick: picking again on the page) when it
    holds a catalogue product's name from an earlier pick. Text the user typed is never replaced.
    Return whether the fields were filled."""
    from ..customers import Product
    product = db.session.get(Product, form.product_id.data) if form.product_id.data else None
    if product is None:
        return False
    typed = (form.product.data or "").strip()
    earlier_pick = replace_pick and typed and db.session.scalar(
        db.select(Product.id).where(Product.name == typed).limit(1))
    if typed and not earlier_pick:
        return False
    form.product.data = product.name
    if product.unit:
        form.unit.data = product.unit
    return True


def apply_form(form, requirement: Requirement, customer) -> None:
    """Copy the form onto the record, with the customer's defaults for empty contact fields."""
    form.populate_obj(requirement)
    requirement.product_id = form.product_id.data or None
    requirement.contact_name = form.contact_name.data or customer.contact_name
    requirement.contact_phone = form.contact_phone.data or customer.contact_phone
    requirement.contact_email = form.contact_email.data or customer.contact_email
    requirement.quality_standard = form.quality_standard.data or customer.quality_standard


def create(form, customer, user) -> Requirement:
    """Save a new draft requirement record for customer from its form, written by user, and audit it."""
    requirement = Requirement(sales_rep_id=user.id, currency=customer.currency)
    apply_form(form, requirement, customer)
    db.session.add(requirement)
    db.session.flush()
    audit.record("requirement.created", requirement, actor=user, after=requirement.record())
    return requirement


def edit(requirement: Requirement, form, customer, user) -> None:
    """Save a requirement record's changes from its form, and audit them."""
    before = requirement.record()
    apply_form(form, requirement, customer)
    audit.record("requirement.edited", requirement, actor=user, before=before, after=requirement.record())


def renew_link(requirement: Requirement, user, *, revoke: bool = False) -> None:
    """Replace the customer's confirmation link with a new one, or withdraw it."""
    links.renew("requirement_confirm", requirement, user, event="requirement", revoke=revoke)


def send(requirement: Requirement, user) -> links.AccessLink:
    """Send the record (first time or revised) to the customer: a new round, link and e-mail."""
    name = "send" if requirement.status == "draft" else "resend"
    transition(requirement, lifecycle.MACHINE, name, user)
    number = len(requirement.rounds) + 1
    db.session.add(RequirementRound(requirement=requirement, number=number, sent_by_id=user.id,
                                    snapshot=json.dumps(requirement.record(), ensure_ascii=False)))
    link = links.issue("requirement_confirm", requirement.id)
    email = requirement.contact_email or requirement.customer.contact_email
    notify("requirement.sent", [Recipient(email, requirement.customer.locale or "zh")],
           requirement=requirement, link=link)
    return link


def respond(requirement: Requirement, link: links.AccessLink, answer: str, name: str,
            comment: str | None = None) -> None:
    """Record the customer's confirmation or request for clarification on the current round."""
    transition(requirement, lifecycle.MACHINE, "confirm" if answer == "confirmed" else "ask_clarification",
               roles={"customer"}, actor_kind="link", actor_label=name, note=comment,
               detail={"round": requirement.current_round.number})
    current = requirement.current_round
    current.response, current.responder_name, current.comment = answer, name, comment
    now = utcnow()  # one instant: the used link finds the round it answered by it (public/copies.py)
    current.responded_at = link.used_at = now
    if answer == "confirmed":
        requirement.confirmed_at = now
    notify("requirement.answered", [Recipient.user(requirement.sales_rep)], requirement=requirement,
           answer=answer, name=name, comment=comment)


def cancel(requirement: Requirement, user, reason: str) -> None:
    """Cancel the requirement and withdraw its link."""
    transition(requirement, lifecycle.MACHINE, "cancel", user, note=reason)
    links.revoke_all("requirement_confirm", requirement.id)


def add_attachment(requirement: Requirement, title: str, stored, user) -> Attachment:
    """Attach a stored file; the same title again becomes the next revision."""
    last = db.session.scalar(db.select(db.func.max(Attachment.revision)).where(
        Attachment.requirement_id == requirement.id, Attachment.title == title)) or 0
    attachment = Attachment(requirement=requirement, title=title, revision=last + 1,
                            filename=stored.filename, stored_name=stored.stored_name,
                            content_type=stored.content_type, size=stored.size,
                            sha256=stored.sha256, uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    audit.record("requirement.attachment", requirement, actor=user,
                 after={"title": title, "revision": attachment.revision,
                        "filename": stored.filename, "sha256": stored.sha256})
    return attachment
