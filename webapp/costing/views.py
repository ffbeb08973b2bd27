"""The cost sheet page (成本核算表): finance enters actual costs and finalises; finance or the
manager closes the order from here once it is delivered, followed up and costed."""
from decimal import Decimal

from flask import abort, flash, g, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ..db_types import money as money_value
from ..extensions import db
from ..firm import get_settings
from ..htmx import render, see_other
from ..templating import money
from ..loading import load, writing
from ..orders import lifecycle as order_lifecycle
from ..orders import BUDGET_CATEGORIES, Order
from ..permissions import can, require
from ..statemachine import TransitionError
from . import bp, services
from .sources import sources_of
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .models import variance_rate
from .forms import CATEGORY_LABELS, CloseOverrideForm, CostSheetForm


def get_order(order_id: int, action: str = "costsheet.view") -> Order:
    """The order for the current user doing action (404/403/409 otherwise); a writer locks its row
    on PostgreSQL, so a close and a payment or a second close at once see each other."""
    return load(Order, order_id, action, options=() if writing() else (joinedload(Order.customer),))


def percent(value) -> str:
    """A variance rate in the user's locale (12.5 %), or a dash without a budget to compare."""
    return "—" if value is None else format_percent(value, "#,##0.0%")


def offered_causes(sheet) -> list:
    """The causes a line may be given: the firm's active ones, and any hidden one a line already has."""
    causes = services.active_causes()
    have = {c.id for c in causes}
    for line in sheet.lines:
        for line_cause in line.causes:
            if line_cause.cause_id not in have:
                causes.append(line_cause.cause)
                have.add(line_cause.cause_id)
    return causes


def sheet_form(sheet) -> CostSheetForm:
    """The form filled from the saved sheet: a typed actual shown as typed, a derived one left blank
    (blank means "what the records say"), each line's causes in its rows."""
    data = {}
    for line in sheet.lines:
        data[f"actual_{line.category}"] = line.actual if line.source == "manual" else None
        data[f"cause_{line.category}"] = line.cause
        rows = [{"cause": lc.cause_id, "amount": abs(lc.amount), "note": lc.note} for lc in line.causes]
        data[f"causes_{line.category}"] = rows + [{}]  # one empty row to add a cause; saving offers the next
    return CostSheetForm(data=data)


def sheet_context(order: Order, form=None, problems=None, override_form=None) -> dict:
    """What the cost sheet page shows; a form with errors is shown as it was typed. A page view
    writes nothing: derived actuals are shown as the records say them now and stored on save."""
    sheet = services.sheet_for(order)
    recorded = services.recorded_costs(order)
    derived = services.derived_actuals(order, recorded)
    if sheet is None:
        sheet = services.draft_sheet(order)
    if form is None:
        form = sheet_form(sheet)
    form.offer_causes(offered_causes(sheet))
    close_roles = order_lifecycle.MACHINE.transitions["close"].roles
    rows = []
    for line in sheet.lines:
        actual = derived.get(line.category) if line.source == "derived" and not sheet.is_final else line.actual
        variance = None if actual is None else actual - line.budget
        rows.append({"line": line, "category": line.category, "budget": line.budget, "actual": actual,
                     "variance": variance, "rate": variance_rate(variance, line.budget)})
    actual_total = (None if any(r["actual"] is None for r in rows)
                    else sum((r["actual"] for r in rows), Decimal("0")))
    total_variance = None if actual_total is None else actual_total - sheet.budget_total
    totals = {"budget": sheet.budget_total, "actual": actual_total, "variance": total_variance,
              "rate": variance_rate(total_variance, sheet.budget_total)}
    # Costs are the firm's, in its currency; the order's revenue is in the order's currency, fixed to
    # the firm's at the order's exchange rate.
    revenue = money_value(order.total_excl * (order.exchange_rate or Decimal("1")))
    return {
        "firm_currency": get_settings().currency, "revenue": revenue,
        "margin_rate": (None if actual_total is None or not revenue
                        else ((revenue - actual_total) / revenue).quantize(Decimal("0.0001"))),
        "order": order, "sheet": sheet, "form": form, "labels": CATEGORY_LABELS, "percent": percent,
        "derived": derived, "rows": rows, "totals": totals,
        "can_edit": (can(current_user, "costsheet.edit") and not sheet.is_final
                     and order.status in order_lifecycle.COSTABLE),
        "can_finalise": (can(current_user, "costsheet.finalise") and not sheet.is_final
                         and order.status in order_lifecycle.COSTABLE),
        "can_close": bool(current_user.roles & close_roles) and order.status not in order_lifecycle.ENDED,
        "blockers": [_(b) for b in services.close_blockers(order)] if order.status != "closed" else [],
        "settlement": [_(b) for b in services.settlement_blockers(order)] if order.status != "closed" else [],
        "can_override": can(current_user, "order.close_override") and order.status == "delivered",
        "override_form": override_form or CloseOverrideForm(prefix="override"),
        "problems": problems or [],
        "recorded": recorded,
        "return_costs": services.return_case_costs(order),
    }


@bp.get("/costing/orders/<int:order_id>")
@login_required
def sheet(order_id: int):
    """The order's cost sheet: budget against actual per category, variance and its causes."""
    order = get_order(order_id)
    return render("costing/sheet.html", **sheet_context(order))


def posted_causes(form: CostSheetForm, category: str) -> list[services.CauseEntry]:
    """The cause rows of a category that name a cause."""
    return [services.CauseEntry(row.form.cause.data, row.form.amount.data, row.form.note.data or "")
            for row in form[f"causes_{category}"] if row.form.cause.data is not None]


@bp.post("/costing/orders/<int:order_id>")
@login_required
def save(order_id: int):
    """Finance saves the actual costs (blank: what the records say), the notes and the cause codes."""
    order = get_order(order_id, "costsheet.edit")
    form = CostSheetForm()
    sheet = services.sheet_for(order) or services.draft_sheet(order)
    form.offer_causes(offered_causes(sheet))
    if not form.validate_on_submit():
        return render("costing/sheet.html", status_code=422, **sheet_context(order, form))
    try:
        services.save(order, {c: getattr(form, f"actual_{c}").data for c in BUDGET_CATEGORIES},
                      {c: (getattr(form, f"cause_{c}").data or "").strip() for c in BUDGET_CATEGORIES},
                      current_user, causes={c: posted_causes(form, c) for c in BUDGET_CATEGORIES})
    except services.CostSheetInvalid as invalid:
        db.session.rollback()  # nothing of a refused save stays; the form keeps what was typed
        form.line_errors = {category: [_(message, **{k: money(v, get_settings().currency) for k, v in values.items()})
                                       for message, values in problems]
                            for category, problems in invalid.errors.items()}
        return render("costing/sheet.html", status_code=422, **sheet_context(order, form))
    flash(_("Cost sheet saved."))
    return see_other(url_for("costing.sheet", order_id=order.id))


@bp.post("/costing/orders/<int:order_id>/finalise")
@login_required
def finalise(order_id: int):
    """Finance finalises the cost sheet (every actual entered); it no longer changes."""
    order = get_order(order_id, "costsheet.finalise")
    services.finalise(order, current_user)
    flash(_("Cost sheet finalised."))
    return see_other(url_for("costing.sheet", order_id=order.id))


@bp.post("/costing/orders/<int:order_id>/close")
@login_required
def close(order_id: int):
    """Close the order (finance or manager); refused with what is still missing (409). A manager may
    close over an open return case, ticket or unpaid amount with a reason (422 without one)."""
    order = get_order(order_id, "order.view")
    override_reason = None
    if "override-reason" in request.form:
        require("order.close_override")
        form = CloseOverrideForm(prefix="override")
        if not form.validate_on_submit():
            return render("costing/sheet.html", status_code=422, **sheet_context(order, override_form=form))
        override_reason = form.reason.data.strip()
    try:
        services.close(order, current_user, override_reason=override_reason)
    except TransitionError as error:
        if error.status != 409:
            raise
        g.rollback = True
        blockers = services.close_blockers(order, override=override_reason is not None)
        problems = [_(b) for b in blockers] or [_(error.message)]
        return render("costing/sheet.html", status_code=409, **sheet_context(order, problems=problems))
    flash(_("Order closed."))
    return see_other(url_for("orders.detail", order_id=order.id))


@bp.get("/costing/orders/<int:order_id>/sources/<category>")
@login_required
def sources(order_id: int, category: str):
    """Where a category's actual comes from: the stock movements, reports, shipments or return costs."""
    order = get_order(order_id)
    if category not in BUDGET_CATEGORIES:
        abort(404)
    return render("costing/sources.html", order=order, category=category, labels=CATEGORY_LABELS,
                  source=sources_of(order, category), derived=services.derived_actuals(order))
