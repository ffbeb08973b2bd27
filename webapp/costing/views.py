"""The cost sheet page (成本核算表): finance enters actual costs and finalises; finance or the
manager closes the order from here once it is delivered, followed up and costed."""
from flask import flash, g, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ..htmx import render, see_other
from ..loading import load, writing
from ..orders import lifecycle as order_lifecycle
from ..orders import BUDGET_CATEGORIES, Order
from ..permissions import can, require
from ..statemachine import TransitionError
from . import bp, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import CATEGORY_LABELS, CloseOverrideForm, CostSheetForm


def get_order(order_id: int, action: str = "costsheet.view") -> Order:
    """The order for the current user doing action (404/403/409 otherwise); a writer locks its row
    on PostgreSQL, so a close and a payment or a second close at once see each other."""
    return load(Order, order_id, action, options=() if writing() else (joinedload(Order.customer),))


def percent(value) -> str:
    """A variance rate in the user's locale (12.5 %), or a dash without a budget to compare."""
    return "—" if value is None else format_percent(value, "#,##0.0%")


def sheet_context(order: Order, form=None, problems=None, override_form=None) -> dict:
    """What the cost sheet page shows; a form with errors is shown as it was typed."""
    sheet = services.sheet_for(order)
    if sheet is None:
        sheet = services.draft_sheet(order)
    else:
        services.refresh_computed(sheet, order)  # the freight of shipments made since it was saved
    if form is None:
        data = {}
        for line in sheet.lines:
            data[f"actual_{line.category}"] = line.actual
            data[f"cause_{line.category}"] = line.cause
        form = CostSheetForm(data=data)
    close_roles = order_lifecycle.MACHINE.transitions["close"].roles
    return {
        "order": order, "sheet": sheet, "form": form, "labels": CATEGORY_LABELS, "percent": percent,
        "computed": services.COMPUTED,
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
        "recorded": services.recorded_costs(order),
        "return_costs": services.return_case_costs(order),
    }


@bp.get("/costing/orders/<int:order_id>")
@login_required
def sheet(order_id: int):
    """The order's cost sheet: budget against actual per category, variance and its causes."""
    order = get_order(order_id)
    return render("costing/sheet.html", **sheet_context(order))


@bp.post("/costing/orders/<int:order_id>")
@login_required
def save(order_id: int):
    """Finance saves the actual costs and the causes of the variances."""
    order = get_order(order_id, "costsheet.edit")
    form = CostSheetForm()
    if not form.validate_on_submit():
        return render("costing/sheet.html", status_code=422, **sheet_context(order, form))
    services.save(order, {c: getattr(form, f"actual_{c}").data for c in BUDGET_CATEGORIES},
                  {c: (getattr(form, f"cause_{c}").data or "").strip() for c in BUDGET_CATEGORIES},
                  current_user)
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
