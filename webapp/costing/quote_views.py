"""The quotation pages (报价): the list, a new quotation (from a confirmed requirement or blank), the
estimate with where each number comes from, and the customer's answer recorded by sales."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..customers import Customer, Product, scope_customers, visible
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..inputs import row_id
from ..labels import state_label
from ..loading import load
from ..paging import keyset_page
from ..permissions import can, requires
from ..requirements import Requirement
from ..statemachine import N_, TransitionError
from . import bp
from . import quote_lifecycle as lifecycle
from . import quote_services as services
from . import quote_work as _work  # noqa: F401  (registers the quotations' My work items)
from .forms import CATEGORY_LABELS
from .quote_forms import SOURCE_LABELS, DecisionForm, QuoteForm
from .quote_models import Quote

DECISIONS = ("reject", "expire", "cancel", "revise")


def get_quote(quote_id: int, action: str = "quote.view") -> Quote:
    """The quotation for the current user doing action (404/403/409 otherwise); a writer locks its
    row, so two acceptances at once see each other and make one order."""
    return load(Quote, quote_id, action, options=(joinedload(Quote.customer), selectinload(Quote.lines),
                                                  selectinload(Quote.costs)))


def _fill_choices(form: QuoteForm) -> None:
    form.customer_id.choices = options((0, "—"), *[
        (c.id, f"{c.name} ({c.abbreviation})")
        for c in db.session.scalars(db.select(Customer).where(scope_customers(current_user, Customer.id))
                                    .order_by(Customer.name))])


def _products() -> list[Product]:
    return list(db.session.scalars(db.select(Product).order_by(Product.model)))


def _form_for(quote: Quote) -> QuoteForm:
    """The form filled from a quotation (saved or new)."""
    data = {"customer_id": quote.customer_id or 0, "currency": quote.currency, "tax_rate": quote.tax_rate,
            "valid_until": quote.valid_until, "target_margin": quote.target_margin, "notes": quote.notes,
            "lines": [{"model": line.product.model, "quantity": line.quantity, "unit": line.unit,
                       "unit_price": line.typed_price} for line in quote.lines] or [{}]}
    for cost in quote.costs:
        data[f"typed_{cost.category}"] = cost.typed
        data[f"note_{cost.category}"] = cost.note
    form = QuoteForm(data=data)
    _fill_choices(form)
    return form


def _read_lines(form: QuoteForm) -> list[services.LineInput] | None:
    """The lines typed, each a product of the catalogue (None, with the errors on the form, when a
    model is unknown)."""
    lines, ok = [], True
    for entry in form.lines.entries:
        line = entry.form
        if line.is_blank():
            continue
        product = db.session.scalar(db.select(Product).where(Product.model == line.model.data.strip()))
        if product is None:
            line.model.errors = list(line.model.errors) + [_("No product with this model in the catalogue.")]
            ok = False
            continue
        lines.append(services.LineInput(product.id, line.quantity.data, line.unit.data.strip(),
                                        product.name[:200], line.unit_price.data))
    return lines if ok else None


def _save(form: QuoteForm, quote: Quote):
    """Save the form onto quote, or None with the form's errors."""
    lines = _read_lines(form)
    if lines is None:
        return None
    header = {"currency": form.currency.data, "tax_rate": form.tax_rate.data, "valid_until": form.valid_until.data,
              "target_margin": form.target_margin.data, "notes": (form.notes.data or "").strip()}
    typed = {c: getattr(form, f"typed_{c}").data for c in services.CATEGORIES}
    notes = {c: getattr(form, f"note_{c}").data or "" for c in services.CATEGORIES}
    return services.save(quote, header, lines, typed, notes, current_user)


def _edit_page(form: QuoteForm, quote: Quote | None, requirement=None, status_code: int = 200):
    # The typed estimates fold away until one is typed (or refused): most quotations need none.
    by_hand_open = any(getattr(form, f"typed_{c}").data is not None or getattr(form, f"typed_{c}").errors
                       or getattr(form, f"note_{c}").errors for c in services.CATEGORIES)
    return render("costing/quotes/edit.html", form=form, quote=quote, requirement=requirement,
                  by_hand_open=by_hand_open,
                  products=_products(), labels=CATEGORY_LABELS, categories=services.CATEGORIES,
                  status_code=status_code)


def detail_context(quote: Quote, problems=None) -> dict:
    """What the quotation page shows: the estimate with its sources, the prices, the margin, what is
    missing, and the buttons the user may press."""
    return {
        "quote": quote, "labels": CATEGORY_LABELS, "sources": SOURCE_LABELS, "categories": services.CATEGORIES,
        "problems": problems if problems is not None else (
            [_(m, **p) for m, p in services.send_problems(quote)] if quote.status == "draft" else []),
        "form": DecisionForm(), "rate": services.rate,
        "can_edit": can(current_user, "quote.edit") and quote.status in lifecycle.EDITABLE,
        "transitions": [name for name in ("send", "accept", *DECISIONS)
                        if can(current_user, f"quote:{name}", quote)],
        "transition_labels": {n: t.label for n, t in lifecycle.MACHINE.transitions.items()},
    }


@bp.get("/costing/quotes")
@login_required
@requires("quote.view")
def quotes():
    """The quotations, newest first, by status and customer."""
    status = request.args.get("status")
    customer_id = request.args.get("customer", type=row_id)
    query = (db.select(Quote).options(joinedload(Quote.customer), selectinload(Quote.lines))
             .where(scope_customers(current_user, Quote.customer_id)))
    if status in lifecycle.STATES:
        query = query.where(Quote.status == status)
    if customer_id:
        query = query.where(Quote.customer_id == customer_id)
    page = keyset_page(query, Quote, Quote.created_at, descending=True)
    customers = db.session.scalars(db.select(Customer).where(
        Customer.id.in_(db.select(Quote.customer_id)), scope_customers(current_user, Customer.id))
        .order_by(Customer.name)).all()
    return render("costing/quotes/index.html", quotes=page.rows, next_after=page.next_after, status=status,
                  states=lifecycle.STATES, customers=customers, customer_id=customer_id)


@bp.route("/costing/quotes/new", methods=["GET", "POST"])
@login_required
@requires("quote.edit")
def new_quote():
    """A new quotation: blank, or from a confirmed requirement (its product, quantity and date)."""
    requirement = None
    req_id = request.args.get("requirement_id", type=row_id)
    if req_id:
        requirement = load(Requirement, req_id, "requirement.view", lock=False)
        if requirement.status != "confirmed":
            raise TransitionError(409, N_("Only a confirmed requirement is quoted."))
    if request.method == "GET":
        customer = requirement.customer if requirement is not None else None
        draft = services.new_quote(customer or Customer(currency="CNY"), current_user, requirement)
        form = _form_for(draft)
        if customer is None:
            form.customer_id.data = request.args.get("customer_id", type=row_id) or 0
        return _edit_page(form, None, requirement)
    form = QuoteForm()
    _fill_choices(form)
    if request.form.get("add_line"):
        form.lines.append_entry()
        return _edit_page(form, None, requirement)
    if form.validate_on_submit():
        customer = requirement.customer if requirement is not None else db.session.get(Customer, form.customer_id.data)
        if customer is None or not visible(current_user, customer):
            form.customer_id.errors.append(_("Choose a customer."))
        else:
            quote = _save(form, services.new_quote(customer, current_user, requirement))
            if quote is not None:
                flash(_("Quotation %(number)s saved as a draft.", number=quote.number))
                return see_other(url_for("costing.quote", quote_id=quote.id))
    return _edit_page(form, None, requirement, status_code=422)


@bp.get("/costing/quotes/<int:quote_id>")
@login_required
def quote(quote_id: int):
    """The quotation: lines and prices, the estimate per category and where each number comes from."""
    return render("costing/quotes/detail.html", **detail_context(get_quote(quote_id)))


@bp.route("/costing/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@login_required
def edit_quote(quote_id: int):
    """Change a draft quotation; saving estimates it again."""
    quote = get_quote(quote_id, "quote.edit")
    if quote.status not in lifecycle.EDITABLE:
        raise TransitionError(409, N_("Only a draft quotation may be changed."))
    if request.method == "GET":
        return _edit_page(_form_for(quote), quote, quote.requirement)
    form = QuoteForm()
    _fill_choices(form)
    form.customer_id.data = quote.customer_id  # the customer stays; a quotation for another is a new one
    if request.form.get("add_line"):
        form.lines.append_entry()
        return _edit_page(form, quote, quote.requirement)
    if form.validate_on_submit() and _save(form, quote) is not None:
        flash(_("Quotation saved."))
        return see_other(url_for("costing.quote", quote_id=quote.id))
    return _edit_page(form, quote, quote.requirement, status_code=422)


@bp.post("/costing/quotes/<int:quote_id>/estimate")
@login_required
def estimate_quote(quote_id: int):
    """Estimate a draft again from today's BOMs, routings, costs and rates."""
    quote = get_quote(quote_id, "quote.edit")
    services.estimate(quote)
    flash(_("Estimated again from today's costs and rates."))
    return see_other(url_for("costing.quote", quote_id=quote.id))


@bp.post("/costing/quotes/<int:quote_id>/send")
@login_required
def send_quote(quote_id: int):
    """Mark the quotation as sent; refused (409) with everything still missing."""
    quote = get_quote(quote_id, "quote:send")
    try:
        services.send(quote, current_user)
    except TransitionError as error:
        if error.status != 409:
            raise
        g.rollback = True
        problems = [_(m, **p) for m, p in services.send_problems(quote)] or [error.translated()]
        return render("costing/quotes/detail.html", status_code=409, **detail_context(quote, problems))
    flash(_("Quotation marked as sent."))
    return see_other(url_for("costing.quote", quote_id=quote.id))


@bp.post("/costing/quotes/<int:quote_id>/accept")
@login_required
def accept_quote(quote_id: int):
    """Record the customer's acceptance: the draft order is made with the quotation's prices and its
    estimate as the cost budget."""
    quote = get_quote(quote_id, "quote:accept")
    form = DecisionForm()
    if not form.validate_on_submit():
        return render("costing/quotes/detail.html", status_code=422, **detail_context(quote))
    order = services.accept(quote, current_user, (form.note.data or "").strip())
    flash(_("Acceptance recorded: order drawn up from %(number)s.", number=quote.number))
    return see_other(url_for("orders.detail", order_id=order.id))


@bp.post("/costing/quotes/<int:quote_id>/<name>")
@login_required
def decide_quote(quote_id: int, name: str):
    """Record the customer's rejection, mark expired, cancel, or take back to draft to revise."""
    if name not in DECISIONS:
        abort(404)
    quote = get_quote(quote_id, f"quote:{name}")
    form = DecisionForm()
    if not form.validate_on_submit():
        return render("costing/quotes/detail.html", status_code=422, **detail_context(quote))
    services.decide(quote, name, current_user, (form.note.data or "").strip())
    flash(_("Quotation %(number)s: %(state)s.", number=quote.number,
            state=state_label(quote.status, "quote")))
    return see_other(url_for("costing.quote", quote_id=quote.id))


@bp.get("/costing/quotes/<int:quote_id>/timeline")
@login_required
def quote_timeline(quote_id: int):
    """Everything that happened to the quotation, from the audit trail."""
    from .. import audit
    from ..timeline import entries_for
    quote = get_quote(quote_id)
    return render("main/timeline.html", subject=quote, entries=entries_for(audit.timeline("quote", quote_id)),
                  back=url_for("costing.quote", quote_id=quote_id), title=quote.number)
