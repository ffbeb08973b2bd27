"""After-sales pages: staff see an order's follow-up, tickets and survey; the customer opens
tickets, reads answers and confirms them on their order link, and answers the survey."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import links
from ..contacts import order_contact
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..paging import keyset_page
from ..orders import scope_orders
from ..orders import Order
from ..permissions import can, require, requires
from ..shipping import send_document
from ..statemachine import N_, TransitionError
from . import bp, lifecycle, notices, services, tracking
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from ..templating import money
from .forms import (AnswerForm, AssignForm, ClassifyForm, CustomerTicketForm, FollowUpForm, HandBackForm,
                    MessageForm, NoticesForm, PhoneConfirmForm, SurveyForm, TicketCostForm, TicketForm)
from .models import RATINGS, FollowUp, Survey, Ticket
from ..audit import AuditEvent
from ..auth import ROLE_LABELS


def get_order(order_id: int, action: str = "aftersales.view") -> Order:
    """The order for the current user doing action (404/403/409 otherwise; writers lock it)."""
    return load(Order, order_id, action, options=(joinedload(Order.customer),))


def get_ticket(ticket_id: int, action: str = "aftersales.view") -> Ticket:
    """A ticket with its messages for the current user doing action (404/403/409 otherwise)."""
    return load(Ticket, ticket_id, action, options=(
        joinedload(Ticket.order).joinedload(Order.customer), selectinload(Ticket.messages)))


# --- staff -------------------------------------------------------------------------------------

@bp.get("/aftersales/")
@login_required
@requires("aftersales.view")
def index():
    """Follow-up calls to make and tickets waiting for an answer, most urgent first, each list a
    page at a time (its own ?calls_after / ?tickets_after, the other list's kept)."""
    calls = keyset_page(
        db.select(FollowUp).where(FollowUp.status == "open", scope_orders(current_user, FollowUp.order_id))
        .options(joinedload(FollowUp.order).joinedload(Order.customer), joinedload(FollowUp.assignee)),
        FollowUp, FollowUp.due_at, param="calls_after")
    # Unanswered tickets before answered ones, then by when the first answer is due.
    tickets = keyset_page(
        db.select(Ticket).where(Ticket.status != "resolved", scope_orders(current_user, Ticket.order_id))
        .options(joinedload(Ticket.order).joinedload(Order.customer)),
        Ticket, (db.case((Ticket.status == "open", 0), else_=1), Ticket.first_response_due_at),
        param="tickets_after")
    return render("aftersales/index.html", follow_ups=calls.rows, tickets=tickets.rows,
                  calls_after=calls.next_after, tickets_after=tickets.next_after,
                  ticket_labels=lifecycle.TICKET_LABELS, kind_labels=lifecycle.TICKET_KIND_LABELS,
                  department_labels=ROLE_LABELS, time_left=services.time_left)


def order_context(order: Order, **forms) -> dict:
    """Everything the order's after-sales page shows, with fresh forms unless given ones carry errors."""
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order.id)
                                  .options(joinedload(FollowUp.assignee), joinedload(FollowUp.done_by)))
    return {
        "order": order,
        "contact": order_contact(order),
        "follow_up": follow_up,
        "tickets": db.session.scalars(db.select(Ticket).where(Ticket.order_id == order.id)
                                      .order_by(Ticket.id.desc())).all(),
        "surveys": db.session.scalars(db.select(Survey).where(Survey.order_id == order.id)
                                      .order_by(Survey.id)).all(),
        "link": links.current("order_service", order.id),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(prefix="f"),
        "ticket_form": forms.get("ticket_form") or TicketForm(prefix="t"),
        "can_open_ticket": can(current_user, "ticket.open") and services.can_have_tickets(order),
        "can_issue_link": can(current_user, "link.manage") and services.can_have_tickets(order),
        "follow_up_labels": lifecycle.FOLLOW_UP_LABELS,
        "ticket_labels": lifecycle.TICKET_LABELS,
        "kind_labels": lifecycle.TICKET_KIND_LABELS,
        "ratings": RATINGS,
        "can_phone_survey": can(current_user, "survey.by_phone"),
    }


@bp.get("/aftersales/orders/<int:order_id>")
@login_required
def order(order_id: int):
    """An order's after-sales: the follow-up call, its tickets, the survey and the customer's link."""
    item = get_order(order_id)
    return render("aftersales/order.html", **order_context(item))


@bp.post("/aftersales/orders/<int:order_id>/follow-up")
@login_required
def follow_up(order_id: int):
    """Record the outcome of the follow-up call."""
    item = get_order(order_id)
    task = load(FollowUp, None, "follow_up:record", where=FollowUp.order_id == item.id)  # 403 role, 409 done
    form = FollowUpForm(prefix="f")
    if not form.validate_on_submit():
        return render("aftersales/order.html", status_code=422, **order_context(item, follow_up_form=form))
    services.record_follow_up(task, form.outcome.data.strip(), current_user)
    flash(_("Follow-up call recorded."))
    return see_other(url_for("aftersales.order", order_id=item.id))


@bp.post("/aftersales/orders/<int:order_id>/tickets")
@login_required
def open_ticket(order_id: int):
    """Staff open a ticket for the customer (a call, a WeChat message)."""
    item = get_order(order_id, "ticket.open")
    form = TicketForm(prefix="t")
    if not form.validate_on_submit():
        return render("aftersales/order.html", status_code=422, **order_context(item, ticket_form=form))
    ticket = services.open_ticket(item, form.subject.data.strip(), form.description.data.strip(),
                                  user=current_user, kind=form.kind.data)
    flash(_("Ticket opened; the first answer is due %(when)s.", when=_when(ticket.first_response_due_at)))
    return see_other(url_for("aftersales.ticket", ticket_id=ticket.id))


@bp.post("/aftersales/orders/<int:order_id>/service-link")
@login_required
def service_link(order_id: int):
    """Issue a new after-sales link for the customer (the old one stops working)."""
    item = get_order(order_id, "link.manage")
    if not services.can_have_tickets(item):
        raise TransitionError(409, N_("After-sales links are issued only for approved orders."))
    links.issue("order_service", item.id, days=tracking.TRACK_LINK_DAYS)
    flash(_("New customer link issued; the previous one no longer works."))
    return see_other(url_for("aftersales.order", order_id=item.id))


def ticket_context(ticket: Ticket, form=None, cost_form=None, **forms) -> dict:
    """What the staff ticket page shows: its clocks, messages, history and the forms the user may use."""
    from ..shipping import delivery_evidence
    return {"ticket": ticket, "order": ticket.order, "form": form or AnswerForm(prefix="m"),
            "cost_form": cost_form or TicketCostForm(prefix="cost"),
            "classify_form": forms.get("classify_form") or ClassifyForm(
                prefix="k", formdata=None, data={"kind": ticket.kind, "solution": ticket.solution}),
            "assign_form": forms.get("assign_form") or AssignForm(prefix="a"),
            "hand_back_form": forms.get("hand_back_form") or HandBackForm(prefix="h"),
            "phone_form": forms.get("phone_form") or PhoneConfirmForm(prefix="p"),
            "can_cost": can(current_user, "ticket.cost", ticket),
            "can_assign": ticket.is_open and can(current_user, "ticket.assign"),
            "can_hand_back": bool(ticket.department) and can(current_user, "ticket.hand_back", ticket),
            "can_confirm_by_phone": ticket.status == "answered" and can(current_user, "ticket:confirm_by_phone", ticket),
            "evidence": delivery_evidence(ticket.order_id),
            "history": ticket_history(ticket),
            "phone_survey": tracking.due_survey(ticket.order) if can(current_user, "survey.by_phone") else None,
            "ticket_labels": lifecycle.TICKET_LABELS, "kind_labels": lifecycle.TICKET_KIND_LABELS,
            "solution_labels": lifecycle.SOLUTION_LABELS, "department_labels": ROLE_LABELS,
            "resolution_rule": services.RESOLUTION_CLOCKS[ticket.kind].key, "time_left": services.time_left,
            "clock_words": notices.OVERDUE_CLOCKS,
            "can_respond": can(current_user, "ticket:respond", ticket)}


def ticket_history(ticket: Ticket) -> list[dict]:
    """What happened to the ticket, oldest first: answers, type set, handed over and back, escalations,
    confirmations (each with who, when and what the audit trail keeps)."""
    import json
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.entity_type == "ticket", AuditEvent.entity_id == ticket.id)
        .options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id)).all()
    return [{"event": e, "after": json.loads(e.after) if e.after else {},
             "before": json.loads(e.before) if e.before else {}} for e in events]


@bp.get("/aftersales/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    """A ticket with its messages, its clocks (first answer, solution, a department's part) and its forms."""
    item = get_ticket(ticket_id)
    return render("aftersales/ticket.html", **ticket_context(item))


@bp.post("/aftersales/tickets/<int:ticket_id>/respond")
@login_required
def respond(ticket_id: int):
    """Answer the customer, proposing a solution (the first answer stops the 24-working-hour clock)."""
    item = get_ticket(ticket_id, "ticket:respond")  # 403 wrong role, 409 resolved
    form = AnswerForm(prefix="m")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, form))
    services.respond(item, form.body.data.strip(), current_user, solution=form.solution.data or "")
    flash(_("Answer sent; the customer confirms on their link whether it is solved."))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


@bp.post("/aftersales/tickets/<int:ticket_id>/classify")
@login_required
def classify(ticket_id: int):
    """Set the ticket's type (its deadline to solve follows) and the solution chosen."""
    item = get_ticket(ticket_id, "ticket.assign")
    form = ClassifyForm(prefix="k")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, classify_form=form))
    services.classify(item, form.kind.data, form.solution.data or "", current_user)
    flash(_("Saved; the ticket is to be solved by %(when)s.", when=_when(item.resolution_due_at)))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


@bp.post("/aftersales/tickets/<int:ticket_id>/assign")
@login_required
def assign(ticket_id: int):
    """Hand the ticket to another department for its part, on its own clock."""
    item = get_ticket(ticket_id, "ticket.assign")
    form = AssignForm(prefix="a")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, assign_form=form))
    services.assign(item, form.department.data, form.note.data.strip(), current_user)
    flash(_("Handed to %(department)s; their part is due %(when)s.",
            department=ROLE_LABELS[item.department], when=_when(item.department_due_at)))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


@bp.post("/aftersales/tickets/<int:ticket_id>/hand-back")
@login_required
def hand_back(ticket_id: int):
    """The department did its part and hands the ticket back (with what it found)."""
    item = get_ticket(ticket_id, "ticket.hand_back")
    form = HandBackForm(prefix="h")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, hand_back_form=form))
    services.hand_back(item, form.note.data.strip(), current_user)
    flash(_("Handed back to after-sales."))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


@bp.post("/aftersales/tickets/<int:ticket_id>/confirm-by-phone")
@login_required
def confirm_by_phone(ticket_id: int):
    """Record the customer's confirmation given on the phone (closes the ticket, marked by phone)."""
    item = get_ticket(ticket_id, "ticket.confirm_by_phone")
    form = PhoneConfirmForm(prefix="p")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, phone_form=form))
    services.confirm_by_phone(item, form.note.data, current_user)  # 409 closed or nothing proposed yet
    flash(_("Resolution confirmed by phone; the ticket is closed."))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


@bp.get("/aftersales/surveys/<int:survey_id>/phone")
@login_required
def phone_survey(survey_id: int):
    """The survey form, for staff entering the answers the customer gives on the phone."""
    survey = load(Survey, survey_id, "survey.by_phone")
    return _phone_survey_page(survey)


def _phone_survey_page(survey: Survey, form=None, status=200):
    return render("aftersales/survey.html", survey=survey, order=survey.order, form=form or SurveyForm(),
                  by_phone=True, status_code=status)


@bp.post("/aftersales/surveys/<int:survey_id>/phone")
@login_required
def save_phone_survey(survey_id: int):
    """Store the answers the customer gave on the phone, marked by phone with who entered them."""
    survey = load(Survey, survey_id, "survey:answer_by_phone")  # 403 the role, 409 once answered
    form = SurveyForm()
    if not form.validate_on_submit():
        return _phone_survey_page(survey, form, status=422)
    services.answer_survey_by_phone(survey, {name: int(getattr(form, name).data) for name in RATINGS},
                                    (form.suggestions.data or "").strip(), current_user)
    flash(_("Survey answers taken by phone saved."))
    return see_other(url_for("aftersales.order", order_id=survey.order_id))


@bp.post("/aftersales/tickets/<int:ticket_id>/costs")
@login_required
def add_cost(ticket_id: int):
    """Record a cost of solving the ticket (after-sales, finance, the manager)."""
    item = get_ticket(ticket_id)
    require("ticket.cost")  # the role (403); a closed order is refused by the service with its reason (409)
    form = TicketCostForm(prefix="cost")
    if not form.validate_on_submit():
        return render("aftersales/ticket.html", status_code=422, **ticket_context(item, cost_form=form))
    services.add_cost(item, form.kind.data, form.amount.data, form.note.data or "", current_user)
    flash(_("Cost recorded: %(amount)s.", amount=money(form.amount.data, item.order.currency)))
    return see_other(url_for("aftersales.ticket", ticket_id=item.id))


def _when(value) -> str:
    """A time in the firm's zone, short, for a flash message."""
    from ..templating import datetime_local
    return datetime_local(value, "short")


# --- the customer's links (opened through public.open_link) ------------------------------------
# Every customer URL lives under /c/<token>/… (url_for builds the /c/ rule: it is registered first);
# the older /aftersales/c/<token>/… rule of each form stays, for pages opened before the change.

def open_customer_link(link: links.AccessLink):
    """Open an after-sales link: the order's service page, or the satisfaction survey."""
    if link.purpose == "survey":
        return _survey_page(link, _survey_for(link))
    return _service_page(link, _service_order(link))


def _service_order(link: links.AccessLink) -> Order:
    """The order a customer's order link is for (404 for another purpose, an unapproved order, or
    the set time after the order closed)."""
    return tracking.service_order(link)


def _service_page(link, order: Order, ticket_form=None, reply_forms=None, status=200):
    """The order's page for the customer: where it stands, its shipments and their way, what they
    signed, the inspection reports, their tickets with our answers and a form for a new one."""
    tickets = db.session.scalars(db.select(Ticket).where(Ticket.order_id == order.id)
                                 .options(selectinload(Ticket.messages)).order_by(Ticket.id.desc())).all()
    reply_forms = reply_forms or {}
    from ..shipping import services as shipping
    return render("aftersales/track.html", link=link, order=order, tickets=tickets,
                  returns=shipping.customer_returns(order.id),
                  ticket_form=ticket_form or CustomerTicketForm(prefix="t"),
                  reply_forms={t.id: reply_forms.get(t.id) or MessageForm(prefix=f"r{t.id}") for t in tickets},
                  ticket_labels=lifecycle.TICKET_LABELS, status_code=status,
                  **tracking.page_context(order, tickets))


@bp.get("/c/<token>/documents/<int:document_id>")
def customer_document(token: str, document_id: int):
    """A document attached to one of the order's shipments (a material certificate, an inspection
    report), downloaded through the customer's order link; another order's or a staff-only one: 404."""
    order = _service_order(links.resolve(token))
    document = tracking.customer_document(order, document_id)
    if document is None:
        abort(404)
    return send_document(document)


@bp.get("/c/<token>/notices")
def customer_notices(token: str):
    """What the customer's contact chooses to be told by mail about their order."""
    link = links.resolve(token)
    order = _service_order(link)
    return _notices_page(link, order)


def _notices_page(link, order: Order, form=None, status=200):
    row = tracking.preference(order.customer_id, tracking.contact_email(order))
    muted = row.muted_kinds if row is not None else set()
    if form is None:
        form = NoticesForm(formdata=None, data={kind: kind not in muted for kind in tracking.NOTICE_LABELS})
    return render("aftersales/notices.html", link=link, order=order, form=form, email=tracking.contact_email(order),
                  labels=tracking.NOTICE_LABELS, status_code=status)


@bp.post("/c/<token>/notices")
def save_customer_notices(token: str):
    """Store the contact's choice of mails (every box unticked: no news mail; the signing and
    document mails still come)."""
    link = links.resolve(token)
    order = _service_order(link)
    form = NoticesForm()
    if not form.validate_on_submit():
        return _notices_page(link, order, form, status=422)
    if not tracking.contact_email(order):
        abort(409)
    tracking.save_preference(order, {kind for kind in tracking.NOTICE_LABELS if getattr(form, kind).data})
    flash(_("Your choice is saved."))
    return see_other(url_for("public.open_link", token=token))


def _customer_ticket(order: Order, ticket_id: int) -> Ticket:
    """A ticket of the link's order (404 for any other order's ticket)."""
    item = db.session.get(Ticket, ticket_id)
    if item is None or item.order_id != order.id:
        abort(404)
    return item


@bp.post("/aftersales/c/<token>/tickets")
@bp.post("/c/<token>/tickets")
def customer_ticket(token: str):
    """The customer opens a ticket on their order link."""
    link = links.resolve(token)
    order = _service_order(link)
    form = CustomerTicketForm(prefix="t")
    if not form.validate_on_submit():
        return _service_page(link, order, ticket_form=form, status=422)
    services.open_ticket(order, form.subject.data.strip(), form.description.data.strip(),
                         customer_name=form.name.data.strip(), kind=form.kind.data)
    flash(_("Thank you. We will answer within one working day; the answer will appear on this page."))
    return see_other(url_for("public.open_link", token=token))


@bp.post("/aftersales/c/<token>/tickets/<int:ticket_id>/reply")
@bp.post("/c/<token>/tickets/<int:ticket_id>/reply")
def customer_reply(token: str, ticket_id: int):
    """The customer adds to a ticket (on an answered one: it is not solved yet)."""
    link = links.resolve(token)
    order = _service_order(link)
    item = _customer_ticket(order, ticket_id)
    form = MessageForm(prefix=f"r{item.id}")
    if not form.validate_on_submit():
        return _service_page(link, order, reply_forms={item.id: form}, status=422)
    services.customer_reply(item, form.body.data.strip())
    flash(_("Thank you, we received your message."))
    return see_other(url_for("public.open_link", token=token))


@bp.post("/aftersales/c/<token>/tickets/<int:ticket_id>/confirm")
@bp.post("/c/<token>/tickets/<int:ticket_id>/confirm")
def customer_confirm(token: str, ticket_id: int):
    """The customer confirms the answer solved the problem."""
    link = links.resolve(token)
    order = _service_order(link)
    item = _customer_ticket(order, ticket_id)
    services.confirm_resolved(item)
    flash(_("Thank you for confirming."))
    return see_other(url_for("public.open_link", token=token))


def _survey_for(link: links.AccessLink) -> Survey:
    """The survey a survey link is for (404 otherwise)."""
    survey = db.session.scalar(db.select(Survey).where(Survey.link_id == link.id))
    if link.purpose != "survey" or survey is None:
        abort(404)
    return survey


def _survey_page(link, survey: Survey, form=None, status=200):
    """The survey form, or the thanks once it is answered."""
    return render("aftersales/survey.html", link=link, survey=survey, order=survey.order,
                  form=form or SurveyForm(), status_code=status)


@bp.post("/aftersales/c/<token>/survey")
@bp.post("/c/<token>/survey")
def customer_survey(token: str):
    """The customer answers the satisfaction survey (once per link)."""
    link = links.resolve(token)
    survey = _survey_for(link)
    # Lock the row (PostgreSQL; SQLite's write transaction is already exclusive) so that two
    # answers sent at once cannot both pass the state check.
    db.session.refresh(survey, with_for_update=True)
    lifecycle.SURVEY.check(survey, "answer", {"customer"})  # 409 once answered
    form = SurveyForm()
    if not form.validate_on_submit():
        return _survey_page(link, survey, form, status=422)
    services.answer_survey(survey, {name: int(getattr(form, name).data) for name in RATINGS},
                           (form.suggestions.data or "").strip())
    return see_other(url_for("public.open_link", token=token))

