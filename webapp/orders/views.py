"""Staff pages for orders: terms, reviews, approvals, payments, amendments, versions."""
import json

from flask import abort, flash, g, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from .. import links, registry
from ..customers import Customer
from ..errors import render_error
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_today
from ..statemachine import TransitionError
from ..forms import options
from ..paging import keyset_page
from ..inputs import row_id
from ..loading import authorize, load
from ..customers import scope_customers, visible
from ..htmx import flashed_notes, is_partial, note, render, see_other
from ..labels import label, state_label
from ..templating import money
from ..permissions import can, require, requires
from ..requirements import Requirement
from . import bp, lifecycle, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import (AmendmentForm, BudgetForm, DecisionForm, OrderForm, PaymentForm, ReasonForm,
                    ReviewForm)
from .models import Countersignature, Order, OrderAmendment, OrderVersion

SIMPLE_TRANSITIONS = ("start_production", "hold", "resume", "cancel", "discard")
REASON_REQUIRED = ("hold", "cancel")



# What the order page reads besides the order (loaded after the row lock, never joined to it).
def order_page_options() -> tuple:
    """Loader options for the page (built when asked: the mappers are configured by then)."""
    return (joinedload(Order.customer), selectinload(Order.lines), selectinload(Order.reviews),
            selectinload(Order.approvals), selectinload(Order.payments))


def get_order(order_id: int, action: str = "order.view", **rules) -> Order:
    """The order for the current user doing action: 404/403/409 otherwise; writers lock its row
    (PostgreSQL), so simultaneous approvals or sign-offs see each other."""
    return load(Order, order_id, action, options=order_page_options(), **rules)


# The actions posted from the order page: a refusal (409) comes back inside its panel, not as an
# error page, so what was typed is still there.
PANEL_ACTIONS = frozenset({"orders.renew_link", "orders.submit", "orders.review", "orders.budget",
                           "orders.override", "orders.decide", "orders.payment",
                           "orders.prepayment_override", "orders.move"})


# Orders a list page shows: a firm with years of orders pages through them (each row costs the page
# time to draw and the phone bytes to load; 200 rows made the list 21 times a bare page).
LIST_PAGE_SIZE = 50

@bp.errorhandler(TransitionError)
def refused(error: TransitionError):
    """Show an order-page action's refusal inside the status panel, where the form was, keeping
    what was typed (htmx gets the panel, a browser without JavaScript the whole page)."""
    order_id = (request.view_args or {}).get("order_id")
    if request.endpoint not in PANEL_ACTIONS or order_id is None:
        return render_error(error.status, _(error.message))
    g.rollback = True
    db.session.rollback()
    order = db.session.get(Order, order_id)
    if order is None or not authorize(current_user, "order.view", order):
        return render_error(error.status, _(error.message))  # nothing of the order to show them
    order = get_order(order_id)
    return render("orders/detail.html", "status_panel", status_code=error.status,
                  **detail_context(order, notes=[note(_place(order), _(error.message), "error")], keep_typed=True))


@bp.get("/")
@login_required
@requires("order.view")
def index():
    """List orders, newest first, optionally by status, a page at a time."""
    status = request.args.get("status")
    query = db.select(Order).options(joinedload(Order.customer)).where(scope_customers(current_user, Order.customer_id))
    if status in lifecycle.STATES:
        query = query.where(Order.status == status)
    page = keyset_page(query, Order, Order.created_at, descending=True, size=LIST_PAGE_SIZE)
    # Each row's status words and lateness, asked once per page rather than per row: a full page
    # of 50 rows spent more time translating one status 50 times than drawing the rows.
    state_words = {order.status: state_label(order.status) for order in page.rows}
    return render("orders/index.html", orders=page.rows, next_after=page.next_after, status=status,
                  states=lifecycle.STATES, paged=bool(request.args.get("after")), today=firm_today(),
                  state_words=state_words)


def _customer_choices(form: OrderForm) -> None:
    form.customer_id.choices = options((0, "—"), *[
        (c.id, f"{c.name} ({c.abbreviation})")
        for c in db.session.scalars(db.select(Customer).where(scope_customers(current_user, Customer.id))
                                    .order_by(Customer.name))])


def _add_line_requested(form: OrderForm) -> bool:
    """The "add a line" button posts the form back with one more empty line (works without JS)."""
    if "add_line" in request.form:
        form.lines.append_entry()
        return True
    return False


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires("order.create")
def create():
    """Draw up an order, from a confirmed requirement or for a customer."""
    requirement = None
    requirement_id = request.values.get("requirement_id", type=row_id)
    if requirement_id:
        requirement = load(Requirement, requirement_id, "requirement.view")
        if requirement.status != "confirmed":
            flash(_("Only a confirmed requirement can become an order."), "error")
            return see_other(url_for("requirements.detail", req_id=requirement.id))
    if request.method == "GET":
        customer = requirement.customer if requirement else None
        draft = services.new_order(customer, current_user, requirement) if customer else None
        form = OrderForm(obj=draft) if draft else OrderForm(tax_rate=None)
        if draft is None:
            form.tax_rate.data = get_settings().tax_rate
        _customer_choices(form)
        if customer:
            form.customer_id.data = customer.id
        return render("orders/edit.html", form=form, order=None, requirement=requirement)
    form = OrderForm()
    _customer_choices(form)
    if _add_line_requested(form):
        return render("orders/edit.html", form=form, order=None, requirement=requirement)
    if form.validate_on_submit():
        customer = requirement.customer if requirement else db.session.get(Customer, form.customer_id.data or 0)
        if customer is None or not visible(current_user, customer):
            form.customer_id.errors.append(_("Choose a customer."))
        else:
            order = services.create_order(customer, requirement, form, current_user)
            flash(_("Order saved as a draft."))
            return see_other(url_for("orders.detail", order_id=order.id))
    return render("orders/edit.html", form=form, order=None, requirement=requirement, status_code=422)


@bp.route("/<int:order_id>/edit", methods=["GET", "POST"])
@login_required
def edit(order_id: int):
    """Edit a draft order's terms and lines."""
    order = get_order(order_id, "order.edit")
    form = OrderForm(obj=order)
    _customer_choices(form)
    if request.method == "POST" and _add_line_requested(form):
        return render("orders/edit.html", form=form, order=order, requirement=order.requirement)
    if form.validate_on_submit():
        services.edit_order(order, form, current_user)
        flash(_("Order saved."))
        return see_other(url_for("orders.detail", order_id=order.id))
    return render("orders/edit.html", form=form, order=order, requirement=order.requirement,
                  status_code=422 if form.errors else 200)


def _form(form_class, given=None, *, keep_typed: bool = False, **kwargs):
    """A form for the order page: the one given (it carries errors), else one holding what was
    just typed into it (a refused post keeps it), else a fresh one with the values as saved.

    Fresh forms ignore the request's form data: after a sign-off was posted, a budget form bound
    to that post would find no budget fields in it and show them empty."""
    if given is not None:
        return given
    form = form_class(formdata=None, **kwargs)
    if keep_typed and any(f.name in request.form for f in form if f.short_name != "csrf_token"):
        return form_class(**kwargs)
    return form


def detail_context(order: Order, *, notes: list | None = None, keep_typed: bool = False, **forms) -> dict:
    """Everything the order page shows: fresh forms unless given ones carry errors, and the notes
    (what was just done, or why it was refused) with the place on the page they belong to."""
    reviews = order.current_reviews()
    departments = order.settings.get("reviews", []) if order.settings else []
    kept = {"keep_typed": keep_typed}
    context = {
        "order": order,
        # The cost budget is the firm's costs: in its currency (an order in another is converted at its rate).
        "firm_currency": get_settings().currency,
        "reviews": reviews,
        "departments": departments,
        "review_forms": {d: _form(ReviewForm, forms.get(f"review_{d}"), prefix=d, **kept) for d in departments},
        "budget_form": _form(BudgetForm, forms.get("budget_form"), obj=order, **kept),
        "decision_form": _form(DecisionForm, forms.get("decision_form"), **kept),
        "payment_form": _form(PaymentForm, forms.get("payment_form"), **kept),
        "reason_form": _form(ReasonForm, forms.get("reason_form"), **kept),
        "move_forms": {name: _form(ReasonForm, forms.get(f"reason_{name}"), prefix=name, **kept)
                       for name in REASON_REQUIRED},
        "notes": notes or [],
        "link": links.current("order_countersign", order.id),
        # The customer's page for the order (after-sales keeps it; its link is issued at countersignature).
        "tracking_link": links.current("order_service", order.id) if order.number else None,
        "signature": db.session.scalar(db.select(Countersignature).where(
            Countersignature.order_id == order.id).order_by(Countersignature.id.desc()).limit(1)),
        "amendments": db.session.scalars(db.select(OrderAmendment).where(
            OrderAmendment.order_id == order.id).order_by(OrderAmendment.id)).all(),
        "approvals_needed": order.required_approvals() if order.settings else [],
        "approvals_given": order.current_approvals(),
        "transitions": [t for t in SIMPLE_TRANSITIONS if can(current_user, f"order:{t}", order)],
        "reason_required": REASON_REQUIRED,
        "labels": {name: t.label for name, t in lifecycle.MACHINE.transitions.items()},
    }
    # What another kind of order shows instead of production and parcels (a project's deliverables).
    context.update(registry.page_context("order", order))
    if order.status == "in_review":
        if "production" in departments:
            context["load"] = services.weekly_load(order)
            # Hours per work centre and week, when the firm has work centres (production/centres.py).
            context.update(registry.page_context("order_feasibility", order))
        if "warehouse" in departments:
            context["stock"] = services.stock_check(order)
    return context


def _place(order: Order) -> str:
    """Where on the order page the current action's note goes: beside the form that was posted
    when that part of the page is still shown, else at the top of the status panel (the action
    moved the order on: the last sign-off, an approval, a hold)."""
    endpoint, args = request.endpoint, request.view_args or {}
    if endpoint in ("orders.review", "orders.override") and order.status == "in_review":
        return f"review-{args.get('department')}"
    if endpoint == "orders.budget" and order.status == "in_review":
        return "budget"
    if endpoint == "orders.decide" and order.status == "pending_approval":
        return "approval"
    if endpoint in ("orders.payment", "orders.prepayment_override") and order.status in lifecycle.PAYABLE:
        return "payments"
    if endpoint == "orders.renew_link" and order.status == "awaiting_countersign":
        return "link"
    return "top"


@bp.get("/<int:order_id>")
@login_required
def detail(order_id: int):
    """Show the order: terms, status and the actions the user's roles may take now."""
    order = get_order(order_id)
    # Messages flashed by an action posted without JavaScript are shown where that action was,
    # not above the page where the reader no longer looks.
    return render("orders/detail.html", "status_panel", **detail_context(order, notes=flashed_notes()))


def _done(order: Order, message: str):
    """After an action: the refreshed status panel with the note of what was saved for htmx, else
    a 303 back to the order at that note, which the page shows where the action was."""
    db.session.flush()
    place = _place(order)
    if is_partial():
        db.session.refresh(order)  # relationships as saved (a new payment, review, approval)
        response = render("orders/detail.html", ["status_panel", "order_facts"], oob=True,
                          **detail_context(order, notes=[note(place, message)]))
        response.headers["HX-Trigger"] = "order-changed"
        return response
    flash(message, f"done:{place}")
    return see_other(url_for("orders.detail", order_id=order.id, _anchor="panel-note"))


def _invalid(order: Order, **forms):
    """A form on the order page had errors: show it again with them (422) and a note beside it."""
    refusal = note(_place(order), _("Not saved: check the fields marked below."), "error")
    return render("orders/detail.html", "status_panel", status_code=422,
                  **detail_context(order, notes=[refusal], **forms))


@bp.post("/<int:order_id>/link")
@login_required
@requires("link.manage")
def renew_link(order_id: int):
    """Replace a lost or expired countersignature link (the old one stops working), or withdraw it."""
    order = get_order(order_id, states=("awaiting_countersign",))
    revoke = bool(request.form.get("revoke"))
    services.renew_countersign_link(order, current_user, revoke=revoke)
    if revoke:
        message = _("The link is withdrawn. Make a new one to send it again.")
    else:
        message = _("A new link is ready and sent; the old one no longer works.")
    return _done(order, message)


@bp.post("/<int:order_id>/submit")
@login_required
def submit(order_id: int):
    """Submit the draft for feasibility review."""
    order = get_order(order_id)
    services.submit(order, current_user)
    return _done(order, _("Submitted for review."))


@bp.post("/<int:order_id>/review/<department>")
@login_required
def review(order_id: int, department: str):
    """Record a department's feasibility sign-off."""
    order = get_order(order_id)
    if department not in ("production", "finance", "warehouse"):
        abort(404)
    require(f"order.review.{department}")
    form = ReviewForm(prefix=department)
    if not form.validate_on_submit():
        return _invalid(order, **{f"review_{department}": form})
    services.review(order, department, form.verdict.data, (form.note.data or "").strip(), current_user)
    return _done(order, _("Saved: feasibility sign-off (%(department)s) — %(verdict)s",
                          department=label(department, "role"), verdict=label(form.verdict.data, "verdict")))


@bp.post("/<int:order_id>/budget")
@login_required
def budget(order_id: int):
    """Finance sets the cost budget per category."""
    order = get_order(order_id, "order.budget")  # 403 not finance, 409 past the review
    form = BudgetForm()
    if not form.validate_on_submit():
        return _invalid(order, budget_form=form)
    services.set_budget(order, form, current_user)
    return _done(order, _("Saved: cost budget, %(total)s in all", total=money(order.budget_total, get_settings().currency)))


@bp.post("/<int:order_id>/override/<department>")
@login_required
def override(order_id: int, department: str):
    """The manager overrides a department's concern, with a reason."""
    order = get_order(order_id, "order:override_concern")
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid(order, reason_form=form)
    services.override_concern(order, department, form.reason.data.strip(), current_user)
    return _done(order, _("Saved: concern overridden (%(department)s)", department=label(department, "role")))


@bp.post("/<int:order_id>/revise")
@login_required
def revise(order_id: int):
    """Take the order back to draft to change it after a concern."""
    order = get_order(order_id)
    services.revise(order, current_user, request.form.get("reason", "")[:1000])
    flash(_("The order is a draft again; change it and submit it for a new review."))
    return see_other(url_for("orders.edit", order_id=order.id))


@bp.post("/<int:order_id>/decide")
@login_required
def decide(order_id: int):
    """Approve or reject as manager or finance."""
    decision = request.form.get("decision")
    # The role and the order's state before the form: someone who may not decide is refused (403), not
    # told what the form lacks.
    order = get_order(order_id, "order:reject" if decision == "reject" else "order:approve")
    form = DecisionForm()
    if decision not in ("approve", "reject") or not form.validate_on_submit():
        return _invalid(order, decision_form=form)
    if decision == "reject" and not (form.note.data or "").strip():
        form.note.errors = [_("Give a reason for rejecting.")]
        return _invalid(order, decision_form=form)
    services.decide(order, form.role.data, decision, (form.note.data or "").strip(), current_user)
    role = label(form.role.data, "role")
    return _done(order, _("Saved: approved as %(role)s", role=role) if decision == "approve"
                 else _("Saved: rejected as %(role)s; the order is a draft again.", role=role))


@bp.post("/<int:order_id>/payments")
@login_required
def payment(order_id: int):
    """Finance records a payment received."""
    order = get_order(order_id, "payment.record")  # 403 not finance, 409 a draft or cancelled
    form = PaymentForm()
    if not form.validate_on_submit():
        return _invalid(order, payment_form=form)
    services.record_payment(order, form.kind.data, form.amount.data, form.received_on.data,
                            (form.reference.data or "").strip(), current_user)
    return _done(order, _("Saved: %(kind)s of %(amount)s received on %(date)s",
                          kind=label(form.kind.data, "payment_kind"),
                          amount=money(form.amount.data, order.currency), date=format_date(form.received_on.data)))


@bp.post("/<int:order_id>/prepayment-override")
@login_required
def prepayment_override(order_id: int):
    """Finance lets production start without the prepayment, with a reason."""
    order = get_order(order_id, "order:override_prepayment")  # 403/409 before the form
    form = ReasonForm()
    if not form.validate_on_submit():
        return _invalid(order, reason_form=form)
    services.override_prepayment(order, form.reason.data.strip(), current_user)
    return _done(order, _("Saved: prepayment hold overridden"))


@bp.post("/<int:order_id>/do/<name>")
@login_required
def move(order_id: int, name: str):
    """Start production, hold, resume, cancel or discard."""
    order = get_order(order_id)
    if name not in SIMPLE_TRANSITIONS:
        abort(404)
    reason = ""
    if name in REASON_REQUIRED:
        form = ReasonForm(prefix=name)
        if not form.validate_on_submit() or not form.reason.data.strip():
            if not form.reason.errors:
                form.reason.errors = [_("This field is required.")]
            return _invalid(order, **{f"reason_{name}": form})
        reason = form.reason.data.strip()
    services.simple_transition(order, name, current_user, reason)
    return _done(order, _("Done: %(label)s.", label=_(lifecycle.MACHINE.transitions[name].label)))


@bp.route("/<int:order_id>/amend", methods=["GET", "POST"])
@login_required
def amend(order_id: int):
    """Change an approved order (quantity, date, price, lines, drawing revision) with a reason."""
    order = get_order(order_id, "order:amend")  # 403 wrong role, 409 wrong state
    form = AmendmentForm(obj=order)
    _customer_choices(form)
    if request.method == "POST" and _add_line_requested(form):
        return render("orders/amend.html", form=form, order=order)
    if form.validate_on_submit():
        try:
            services.amend(order, form, form.reason.data.strip(), current_user)
        except services.NothingChanged:
            g.rollback = True
            db.session.rollback()
            order = get_order(order_id)
            form.reason.errors = [_("Nothing in the terms was changed.")]
            return render("orders/amend.html", form=form, order=order, status_code=422)
        flash(_("Amendment recorded as version %(v)s.", v=order.version))
        return see_other(url_for("orders.detail", order_id=order.id))
    return render("orders/amend.html", form=form, order=order, status_code=422 if form.errors else 200)


@bp.get("/<int:order_id>/versions")
@login_required
def versions(order_id: int):
    """Show two versions of the terms side by side."""
    order = get_order(order_id)
    rows = db.session.scalars(db.select(OrderVersion).where(OrderVersion.order_id == order.id)
                              .order_by(OrderVersion.version)).all()
    by_number = {row.version: row for row in rows}
    b = request.args.get("b", type=row_id) or (rows[-1].version if rows else None)
    a = request.args.get("a", type=row_id) or (b - 1 if b and b - 1 in by_number else b)
    left, right = by_number.get(a), by_number.get(b)
    changes = services.diff_terms(left.terms, right.terms) if left and right else []
    return render("orders/versions.html", order=order, versions=rows, left=left, right=right,
                  changed={c["field"] for c in changes})


@bp.get("/<int:order_id>/confirmation")
@login_required
def confirmation(order_id: int):
    """A printable order confirmation with the terms, the number and the signature."""
    order = get_order(order_id, "order.prices")  # it prints prices: only for those who may see them
    signature = db.session.scalar(db.select(Countersignature).where(
        Countersignature.order_id == order.id).order_by(Countersignature.id.desc()).limit(1))
    if signature is not None and signature.version != order.version:
        signature = None  # the newest version is not countersigned yet: do not show an older signature
    terms = json.loads(signature.terms_json) if signature else order.terms()
    return render("orders/confirmation.html", order=order, signature=signature, terms=terms,
                  signature_svg=Markup(signature.signature_svg) if signature else None,
                  **registry.page_context("order_confirmation", order))  # the customer's order page QR


@bp.get("/<int:order_id>/timeline")
@login_required
def timeline(order_id: int):
    """Tell the order's whole story, from the audit trail of the order and of everything made for it
    (work orders, shipments, tickets, follow-up calls, surveys), with the photos that are evidence."""
    from . import story
    order = get_order(order_id)
    entries, cut = story.order_story(order)
    return render("main/timeline.html", subject=order, entries=entries, cut=cut,
                  back=url_for("orders.detail", order_id=order_id),
                  title=order.number or _("Order #%(id)s", id=order.id))
