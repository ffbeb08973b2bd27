"""The review pages: the list, a review with its cost summary and actions, the review form, the
improvement actions (overdue, mine, all) and an action's page with its status buttons."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..auth import ROLE_LABELS, User
from ..costing import CostCause
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..i18n import firm_today
from ..loading import load
from ..orders import Order
from ..permissions import can, requires
from ..statemachine import N_
from . import bp, lifecycle, services
from .forms import (KIND_LABELS, ActionForm, NoteForm, ReviewForm, parse_period, period_choices,
                    period_label)
from .models import ImprovementAction, Review

# How many rows a list shows (the newest reviews; the actions soonest due first).
LIST_LIMIT = 200
ACTION_FILTERS = {"overdue": N_("Overdue"), "open": N_("Open"), "mine": N_("Mine"), "closed": N_("Done or cancelled")}
TREND_WORDS = {"down": N_("down"), "up": N_("up"), "same": N_("no change"), "no_data": N_("no data"),
               "not_yet": N_("not started yet")}
TREND_ARROWS = {"down": "↓", "up": "↑", "same": "→", "no_data": "·", "not_yet": "·"}


def staff() -> list:
    """Active staff who may sit in a review or own an action, by name."""
    people = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.name, User.id))
    return [u for u in people if u.roles & lifecycle.STAFF]


def roles_of(user) -> str:
    """A person's roles in words."""
    return "、".join(str(ROLE_LABELS[r]) for r in sorted(user.roles) if r in ROLE_LABELS)


def review_title(review: Review) -> str:
    """How a review is named: its order, or its month or quarter."""
    if review.kind == "order" and review.order is not None:
        return _("Review of order %(order)s", order=review.order.number or f"#{review.order.id}")
    return _("Review of %(period)s", period=period_label(review.period, review.first))


def page_helpers() -> dict:
    """What every review template uses."""
    return {"review_title": review_title, "roles_of": roles_of, "period_label": period_label,
            "trend_word": lambda w: _(TREND_WORDS[w]), "trend_arrow": TREND_ARROWS, "today": firm_today(),
            "kind_labels": KIND_LABELS, "machine_label": lambda name: lifecycle.MACHINE.transitions[name].label}


@bp.get("/reviews")
@login_required
@requires("review.view")
def index():
    """Reviews, the latest held first, with how many actions are overdue."""
    reviews = db.session.scalars(db.select(Review).options(selectinload(Review.actions), selectinload(Review.order))
                                 .order_by(Review.held_on.desc(), Review.id.desc()).limit(LIST_LIMIT)).all()
    overdue = db.session.scalar(db.select(db.func.count()).select_from(services.overdue_actions().subquery()))
    return render("reviews/index.html", reviews=reviews, overdue=overdue, **page_helpers())


def _fill_choices(form: ReviewForm) -> None:
    form.period.choices = options(*period_choices(firm_today()))
    form.attendees.choices = [(u.id, f"{u.name} · {roles_of(u)}") for u in staff()]


def chosen(field) -> list[int]:
    """The ids ticked on a multiple choice that it offered (a forged or huge id is left out)."""
    offered = {value for value, _label in field.choices}
    return [i for i in (field.data or []) if i in offered]


def _review_fields(form: ReviewForm) -> dict | None:
    """The review's fields from a valid form, or None with the errors put on the form."""
    order = None
    if form.kind.data == "order":
        order = db.session.scalar(db.select(Order).where(Order.number == form.order_number.data)) \
            if form.order_number.data else None
        if order is None and form.order_number.data:
            form.order_number.errors = [_("No order has this number.")]
            return None
    period, day = parse_period(form.period.data)
    return {"kind": form.kind.data, "order": order, "period": period, "period_day": day,
            "held_on": form.held_on.data, "findings": form.findings.data,
            "attendee_ids": chosen(form.attendees),
            "guests": (form.guests.data or "").splitlines()}


def _put_errors(form, invalid: services.ReviewInvalid) -> None:
    for name, message in invalid.errors.items():
        form[name].errors = [_(message)]


@bp.route("/reviews/new", methods=["GET", "POST"])
@login_required
@requires("review.edit")
def new():
    """Record a review meeting: of an order (from its cost sheet) or of a month or quarter."""
    form = ReviewForm()
    _fill_choices(form)
    if request.method == "GET":
        order_id = request.args.get("order_id", type=int)
        order = db.session.get(Order, order_id) if order_id and order_id < 2**31 else None
        if order is not None:
            form.kind.data, form.order_number.data = "order", order.number or ""
        else:
            form.period.data = period_choices(firm_today())[2][0]  # last month
        form.held_on.data = firm_today()
    elif form.validate_on_submit():
        fields = _review_fields(form)
        if fields is not None:
            try:
                review = services.create_review(current_user, **fields)
            except services.ReviewInvalid as invalid:
                _put_errors(form, invalid)
            else:
                flash(_("Review recorded. Add its improvement actions below."))
                return see_other(url_for("reviews.detail", review_id=review.id))
    status = 422 if request.method == "POST" else 200
    return render("reviews/form.html", form=form, review=None, status_code=status, **page_helpers())


@bp.route("/reviews/<int:review_id>/edit", methods=["GET", "POST"])
@login_required
def edit(review_id: int):
    """Change a review's subject, date, attendees or findings."""
    review = load(Review, review_id, "review.edit")
    form = ReviewForm(obj=None if request.method == "POST" else review)
    _fill_choices(form)
    if request.method == "GET":
        form.order_number.data = review.order.number if review.order else ""
        form.period.data = f"{review.period}:{review.first.isoformat()}" if review.first else ""
        form.attendees.data = [a.user_id for a in review.attendees if a.user_id]
        form.guests.data = "\n".join(a.name for a in review.attendees if not a.user_id)
    elif form.validate_on_submit():
        fields = _review_fields(form)
        if fields is not None:
            try:
                services.update_review(review, current_user, **fields)
            except services.ReviewInvalid as invalid:
                db.session.rollback()
                _put_errors(form, invalid)
            else:
                flash(_("Review saved."))
                return see_other(url_for("reviews.detail", review_id=review.id))
    status = 422 if request.method == "POST" else 200
    return render("reviews/form.html", form=form, review=review, status_code=status, **page_helpers())


def _action_form(action: ImprovementAction | None = None, formdata=None, review: Review | None = None) -> ActionForm:
    if action is not None and formdata is None:
        form = ActionForm(formdata=None, obj=action)
        form.causes.data = [c.id for c in action.causes]
    else:
        form = ActionForm(formdata=formdata) if formdata is not None else ActionForm(formdata=None)
    people = staff()
    if action is not None and action.owner not in people:
        people.append(action.owner)  # an owner who left stays shown until someone else takes it over
    form.owner_id.choices = options((0, "—"), *[(u.id, f"{u.name} · {roles_of(u)}") for u in people])
    causes = list(db.session.scalars(db.select(CostCause).where(CostCause.active.is_(True))
                                     .order_by(CostCause.position, CostCause.id)))
    for cause in (action.causes if action is not None else []):
        if cause not in causes:
            causes.append(cause)
    form.causes.choices = [(c.id, c.label) for c in causes]
    return form


def _review_page(review: Review, action_form=None, status: int = 200):
    """The review page: subject, attendees, findings, the cost summary (for those who see costs),
    the actions and, for each cause they address, whether it went down."""
    may_see_costs = can(current_user, "costsheet.view")
    causes = {c.id: c for a in review.actions for c in a.causes}
    trends = services.cause_trend(review, sorted(causes.values(), key=lambda c: (c.position, c.id))) \
        if may_see_costs else []
    return render("reviews/detail.html", review=review, sheet=services.cost_sheet_of(review) if may_see_costs else None,
                  period_causes=services.period_causes(review) if may_see_costs else [], trends=trends,
                  windows=services.trend_windows(review), may_see_costs=may_see_costs,
                  action_form=action_form or (_action_form() if can(current_user, "review.edit") else None),
                  status_code=status, **page_helpers())


@bp.get("/reviews/<int:review_id>")
@login_required
def detail(review_id: int):
    """A review: what it was about, who sat in it, what it found, its actions and their causes' trend."""
    return _review_page(load(Review, review_id, "review.view"))


def _action_fields(form: ActionForm) -> dict | None:
    offered = {c.value for c in form.owner_id.choices}  # options() gives SelectChoice rows
    owner = db.session.get(User, form.owner_id.data) if form.owner_id.data in offered - {0} else None
    if owner is None or not owner.active:
        form.owner_id.errors = [_("Choose who owns the action.")]
        return None
    ids = chosen(form.causes)
    causes = list(db.session.scalars(db.select(CostCause).where(CostCause.id.in_(ids or [0]))))
    return {"title": form.title.data, "description": form.description.data or "", "owner": owner,
            "due_date": form.due_date.data, "causes": causes}


@bp.post("/reviews/<int:review_id>/actions")
@login_required
def add_action(review_id: int):
    """Add an improvement action to the review."""
    review = load(Review, review_id, "review.edit")
    form = _action_form(formdata=request.form)
    if form.validate_on_submit():
        fields = _action_fields(form)
        if fields is not None:
            try:
                services.add_action(review, current_user, **fields)
            except services.ReviewInvalid as invalid:
                db.session.rollback()
                _put_errors(form, invalid)
            else:
                flash(_("Improvement action added."))
                return see_other(url_for("reviews.detail", review_id=review.id, _anchor="actions"))
    return _review_page(load(Review, review_id, "review.view"), form, 422)


@bp.get("/reviews/actions")
@login_required
def actions():
    """Improvement actions: overdue (due before the firm's today and not done), open, mine, done."""
    which = request.args.get("status", "overdue")
    if which not in ACTION_FILTERS:
        which = "overdue"
    if not can(current_user, "review.view") and which != "mine":
        if not can(current_user, "action.mine"):
            abort(403)
        which = "mine"  # an owner outside the review roles sees their own
    today = firm_today()
    query = db.select(ImprovementAction)
    if which == "overdue":
        query = services.overdue_actions(today)
    elif which == "open":
        query = query.where(ImprovementAction.status.in_(lifecycle.OPEN)).order_by(ImprovementAction.due_date,
                                                                                   ImprovementAction.id)
    elif which == "mine":
        query = services.actions_of(current_user.id)
    else:
        query = query.where(ImprovementAction.status.in_(("done", "cancelled"))).order_by(
            ImprovementAction.updated_at.desc(), ImprovementAction.id.desc())
    rows = db.session.scalars(query.options(selectinload(ImprovementAction.review)).limit(LIST_LIMIT)).all()
    return render("reviews/actions.html", rows=rows, which=which, filters=ACTION_FILTERS,
                  may_list=can(current_user, "review.view"), **page_helpers())


def _action_page(action: ImprovementAction, note_form=None, edit_form=None, status: int = 200):
    may_see_costs = can(current_user, "costsheet.view")
    trends = services.cause_trend(action.review, action.causes) if may_see_costs else []
    return render("reviews/action.html", action=action, review=action.review, trends=trends,
                  windows=services.trend_windows(action.review), may_see_costs=may_see_costs,
                  note_form=note_form or NoteForm(), edit_form=edit_form, status_code=status, **page_helpers())


@bp.get("/reviews/actions/<int:action_id>")
@login_required
def action(action_id: int):
    """An improvement action: what, whose, by when, its status buttons and its causes' trend."""
    return _action_page(load(ImprovementAction, action_id, "action.view"))


@bp.route("/reviews/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit_action(action_id: int):
    """Change an action's title, details, owner, due date or causes (the review's editors)."""
    item = load(ImprovementAction, action_id, "review.edit")
    if request.method == "GET":
        return _action_page(item, edit_form=_action_form(item))
    form = _action_form(item, formdata=request.form)
    if form.validate_on_submit():
        fields = _action_fields(form)
        if fields is not None:
            try:
                services.update_action(item, current_user, **fields)
            except services.ReviewInvalid as invalid:
                db.session.rollback()
                _put_errors(form, invalid)
            else:
                flash(_("Improvement action saved."))
                return see_other(url_for("reviews.action", action_id=item.id))
    return _action_page(load(ImprovementAction, action_id, "action.view"), edit_form=form, status=422)


@bp.post("/reviews/actions/<int:action_id>/move/<name>")
@login_required
def move(action_id: int, name: str):
    """Start, complete (with a note), cancel or reopen an action: its owner, or the review's editors."""
    if name not in lifecycle.MACHINE.transitions:
        abort(404)
    item = load(ImprovementAction, action_id, "action.update")
    form = NoteForm()
    if not form.validate_on_submit():
        return _action_page(item, note_form=form, status=422)
    try:
        services.move(item, name, current_user, form.note.data or "")
    except services.ReviewInvalid as invalid:
        db.session.rollback()
        _put_errors(form, invalid)
        return _action_page(load(ImprovementAction, action_id, "action.view"), note_form=form, status=422)
    flash({"start": _("Started."), "complete": _("Marked done."), "cancel": _("Action cancelled."),
           "reopen": _("Action reopened.")}[name])
    back = request.form.get("back")
    if back == "list":
        return see_other(url_for("reviews.actions", status=request.form.get("list", "overdue")))
    return see_other(url_for("reviews.action", action_id=item.id))
