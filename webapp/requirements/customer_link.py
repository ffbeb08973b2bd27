"""The customer's side of a requirement, on their own phone and without an account: the record to
confirm or question through their "requirement_confirm" link, its drawings, and the read-only copy a
used link keeps showing. The routes are the customer links' own (the public blueprint, /c/<token>)."""
import json

from flask import abort, flash, url_for
from flask_babel import gettext as _

from .. import links
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..public import bp as public_bp
from ..public import copies
from . import services
from .forms import ClarificationForm, ConfirmForm
from .models import Attachment, Requirement
from .views import send_attachment


def _requirement_page(link, requirement, confirm_form=None, clarify_form=None, status=200):
    snapshot = json.loads(requirement.current_round.snapshot)
    return render("public/requirement.html", link=link, requirement=requirement, record=snapshot,
                  confirm_form=confirm_form or ConfirmForm(prefix="confirm"),
                  clarify_form=clarify_form or ClarificationForm(prefix="clarify"), status_code=status)


def open_requirement(link):
    """The requirement a "requirement_confirm" link is for, to confirm or question."""
    requirement = load(Requirement, link.object_id, None)
    if requirement.status != "sent":
        abort(404)
    return _requirement_page(link, requirement)


def _answering(token: str):
    """The link and its requirement for the customer's answer (a second answer is refused)."""
    copies.refuse_second_submission(token, ("requirement_confirm",))
    link = links.resolve(token)
    return link, _requirement_for(link)


@public_bp.post("/c/<token>/confirm")
def confirm_requirement(token: str):
    """The customer confirms the requirement record as it stands."""
    link, requirement = _answering(token)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, confirm_form=form, status=422)
    services.respond(requirement, link, "confirmed", form.name.data.strip())
    flash(_("Your requirement is confirmed. We will send you the order terms to countersign."), "thanks")
    return see_other(url_for("public.open_link", token=token))


@public_bp.post("/c/<token>/clarify")
def clarify_requirement(token: str):
    """The customer asks for a clarification with a comment."""
    link, requirement = _answering(token)
    form = ClarificationForm(prefix="clarify")
    if not form.validate_on_submit():
        return _requirement_page(link, requirement, clarify_form=form, status=422)
    services.respond(requirement, link, "clarification", form.name.data.strip(), form.comment.data.strip())
    flash(_("We received your question and will get back to you with a revised record."), "thanks")
    return see_other(url_for("public.open_link", token=token))


def _requirement_for(link) -> Requirement:
    if link.purpose != "requirement_confirm":
        abort(404)
    requirement = load(Requirement, link.object_id, None)
    if requirement.status != "sent":
        abort(404)
    return requirement


@public_bp.get("/c/<token>/files/<int:attachment_id>")
def requirement_file(token: str, attachment_id: int):
    """Download a drawing of the requirement the link is for (and no other)."""
    link = links.resolve(token)
    requirement = _requirement_for(link)
    attachment = load(Attachment, attachment_id, None)
    if attachment.requirement_id != requirement.id:
        abort(404)
    return send_attachment(attachment)


def requirement_copy(link: links.AccessLink):
    """The record as the customer saw it in the round they answered, and their answer."""
    requirement = db.session.get(Requirement, link.object_id)
    answered = [r for r in requirement.rounds if r.responded_at is not None] if requirement else []
    if not answered:
        abort(404)
    # The round this link answered: respond() stamps the round and the link at the same instant.
    answered_round = min(answered, key=lambda r: abs((r.responded_at - link.used_at).total_seconds()))
    return copies.render_copy("public/requirement_copy.html", link, answered_round.responded_at,
                              requirement.sales_rep, requirement=requirement, round=answered_round,
                              record=json.loads(answered_round.snapshot),
                              newer_round=answered_round.number < len(requirement.rounds))
