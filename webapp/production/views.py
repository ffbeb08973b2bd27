"""Work orders: the supervisor's plan vs actual, the printable label, and the worker's page."""
from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from .. import links
from ..auth import User
from ..extensions import db
from ..forms import ids_of_its_own, options
from ..htmx import render, see_other
from ..orders import lifecycle as order_lifecycle
from ..loading import load
from ..paging import keyset_page
from ..orders import scope_orders
from ..orders import Order
from ..permissions import can, requires
from ..templating import quantity
from ..photos import get_photo, photos_of, send_photo
from ..pwa import keep_offline
from ..sync import replay
from ..sync import Applied, Conflict, Invalid
from ..sync import offline_capable
from ..statemachine import TransitionError
from ..uploads import UploadError
from . import bp, earnings, labels, lifecycle, materials, services
from . import operations as ops
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import (KIND_LABELS, SCRAP_REASON_LABELS, AnomalyForm, IssueForm, OperationForm, PlanForm, ProgressForm,
                    QcFailForm, ResolveForm, SplitForm)
from .models import Anomaly, WorkOrder, WorkOrderOperation

QUICK_AMOUNTS = (1, 5, 10)


# What the work order pages read besides the row (loaded after the row lock, never joined to it).
def work_order_page_options() -> tuple:
    """Loader options for the page (built when asked: the mappers are configured by then)."""
    # Not the reports: a work order's sums and its latest reports are asked of the database (years
    # of reports are not loaded to show five).
    return (joinedload(WorkOrder.order), joinedload(WorkOrder.line), selectinload(WorkOrder.anomalies))


def get_work_order(work_order_id: int, action: str = "workorder.view") -> WorkOrder:
    """The work order for the current user doing action (404/403/409 otherwise; writers lock it)."""
    return load(WorkOrder, work_order_id, action, options=work_order_page_options())


def by_token(token: str, action: str = "workorder.view") -> WorkOrder:
    """The work order a label's QR points to, for the current user doing action (404 for anything else)."""
    return load(WorkOrder, None, action, where=WorkOrder.token == token[:40])


def label_url(work_order: WorkOrder) -> str:
    """The absolute URL in a work order's QR."""
    return links.absolute(url_for("production.floor", token=work_order.token))


@bp.get("/production/")
@login_required
@requires("workorder.view")
def index():
    """Open work orders by planned start (unplanned last), a page at a time; the first page shows
    the worker's own above them."""
    query = (db.select(WorkOrder).where(WorkOrder.status != "done", scope_orders(current_user, WorkOrder.order_id))
             .options(joinedload(WorkOrder.order).joinedload(Order.customer), joinedload(WorkOrder.line)))
    waiting = request.args.get("waiting") == "material"
    if waiting:  # planned with a BOM: a receipt covering them would have moved them on (materials.py)
        query = query.where(WorkOrder.status == "planned", WorkOrder.bom_version_id.is_not(None))
    page = keyset_page(query, WorkOrder, WorkOrder.planned_start, nulls_last=True)
    # A worker's own are few: the first page's worth of them, in the same order, above the list.
    mine = [] if request.args.get("after") else keyset_page(
        query.where(WorkOrder.owner_id == current_user.id), WorkOrder, WorkOrder.planned_start,
        nulls_last=True, param="mine_after").rows
    keep_offline()
    return render("production/index.html", mine=mine, work_orders=page.rows, next_after=page.next_after,
                  waiting=waiting)


@bp.get("/production/orders/<int:order_id>")
@login_required
def plan(order_id: int):
    """Plan vs actual for an order's work orders (生产/备货跟踪表)."""
    order = load(Order, order_id, "workorder.view")
    work_orders = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)
                                     .options(selectinload(WorkOrder.reports),
                                              selectinload(WorkOrder.anomalies).joinedload(Anomaly.reported_by),
                                              joinedload(WorkOrder.line), joinedload(WorkOrder.owner))
                                     .order_by(WorkOrder.id)).all()
    return render("production/plan.html", order=order, work_orders=work_orders,
                  unplanned=services.lines_without_work_orders(order), state_labels=lifecycle.STATE_LABELS,
                  anomaly_photos=photos_of("anomaly", [a.id for w in work_orders for a in w.anomalies]))


@bp.post("/production/orders/<int:order_id>/work-orders")
@login_required
def create(order_id: int):
    """Make a work order for every order line that has none."""
    order = load(Order, order_id, "workorder.manage", states=order_lifecycle.SIGNED)
    if not order.number:
        abort(409)
    services.create_work_orders(order, current_user)
    flash(_("Work orders created. Print their labels and hand them to the floor."))
    return see_other(url_for("production.plan", order_id=order.id))


def home_url(work_order: WorkOrder) -> str:
    """Where a work order's office pages lead back to: its order's plan, or the stocking instructions."""
    if work_order.order_id is None:
        return url_for("production.stocking")
    return url_for("production.plan", order_id=work_order.order_id)


@bp.route("/production/wo/<int:work_order_id>/edit", methods=["GET", "POST"])
@login_required
def edit(work_order_id: int):
    """Set the owner and planned dates, or split off part of the quantity."""
    work_order = get_work_order(work_order_id, "workorder.manage")
    form = PlanForm(obj=work_order)
    form.owner_id.choices = options((0, "—"), *[
        (u.id, u.name) for u in db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.name))
        if u.roles & {"worker", "production"}])
    split_form = SplitForm(prefix="split")
    if request.method == "GET":
        form.owner_id.data = work_order.owner_id or 0
    elif "split-quantity" in request.form:
        if split_form.validate_on_submit():
            new = services.split(work_order, split_form.quantity.data, current_user)
            flash(_("Work order %(number)s created.", number=new.number))
            return see_other(home_url(work_order))
    elif form.validate_on_submit():
        form.populate_obj(work_order)
        work_order.owner_id = form.owner_id.data or None
        flash(_("Work order saved."))
        return see_other(home_url(work_order))
    status = 422 if (form.errors or split_form.errors) else 200
    return render("production/edit.html", work_order=work_order, form=form, split_form=split_form,
                  status_code=status)


@bp.get("/production/wo/<int:work_order_id>/label")
@login_required
@requires("workorder.view")
def label(work_order_id: int):
    """A printable label page."""
    work_order = get_work_order(work_order_id)
    return render("production/label.html", work_order=work_order, svg=Markup(_label_svg(work_order)))


@bp.get("/production/wo/<int:work_order_id>/label.svg")
@login_required
@requires("workorder.view")
def label_svg(work_order_id: int):
    """The label as an SVG file (for label printers)."""
    work_order = get_work_order(work_order_id)
    return Response(_label_svg(work_order), mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="{work_order.number}.svg"'})


def _label_svg(work_order: WorkOrder) -> str:
    line = work_order.item
    return labels.label_svg(label_url(work_order), [
        work_order.number, line.model, f"{work_order.quantity.normalize():f} {line.unit}",
        work_order.made_for_short])


# --- the worker's page ---------------------------------------------------------------------------

def floor_context(work_order: WorkOrder, **forms) -> dict:
    """What the worker's page shows."""
    remaining, latest = work_order.remaining, work_order.latest_reports()
    return {
        "work_order": work_order, "state_labels": lifecycle.STATE_LABELS, "kinds": KIND_LABELS,
        "progress_form": forms.get("progress_form") or ProgressForm(prefix="p"),
        "anomaly_form": forms.get("anomaly_form") or AnomalyForm(prefix="a"),
        "quick": [q for q in QUICK_AMOUNTS if q <= remaining],
        "moves": [name for name in ("materials_ready", "start", "finish", "pass_qc", "unblock")
                  if can(current_user, f"work_order:{name}", work_order)],
        "can_fail_qc": can(current_user, "work_order:fail_qc", work_order),
        "qc_fail_form": forms.get("qc_fail_form") or QcFailForm(prefix="q"),
        "labels": {name: t.label for name, t in lifecycle.MACHINE.transitions.items()},
        "latest_reports": latest,
        "photos": photos_of("progress", [r.id for r in latest]),
        "open_anomalies": [a for a in work_order.anomalies if a.resolved_at is None],
        "anomaly_photos": photos_of("anomaly", [a.id for a in work_order.anomalies if a.resolved_at is None]),
        "resolve_forms": {a.id: ids_of_its_own(ResolveForm(prefix="r"), a.id) for a in work_order.anomalies
                          if a.resolved_at is None},
        "can_report": (not work_order.operations and work_order.status in ("planned", "materials_ready", "in_progress")
                       and can(current_user, "workorder.report") and remaining > 0),
        # With operations, reports are made per operation (its page, from the process card's QR).
        "operations": ops.progress(work_order),
    }


@bp.get("/w/<token>")
@login_required
def floor(token: str):
    """The page a work-order label opens: start, report, finish, or raise an anomaly."""
    work_order = by_token(token)
    keep_offline()
    return render("production/floor.html", **floor_context(work_order))


@bp.post("/w/<token>/report")
@offline_capable
@login_required
def report(token: str):
    """Report good and scrap pieces (a quick button sends just the good count). Works offline."""
    work_order = by_token(token, "workorder.report")
    form = ProgressForm(prefix="p")
    if not form.validate_on_submit():
        return Invalid(form, _floor_page(work_order.id, progress_form=form))
    try:
        entry = services.report(work_order, current_user, form.good.data or 0, form.scrap.data or 0,
                                (form.note.data or "").strip(), request.files.getlist(form.photos.name),
                                occurred_at=replay.recorded_at())
    except UploadError as error:
        return _unfit_photo(work_order, form, error, "progress_form")
    except TransitionError as error:
        # Refused by the work's state (more than is left to make, or than the previous operation
        # passed): the outbox keeps it as a conflict; on the page the form comes back as typed, its
        # note and counts kept, with the reason.
        form.good.errors = [error.translated()]
        return Conflict(error.translated(), _floor_page(work_order.id, status=error.status, progress_form=form),
                        status=error.status)
    message = _("Saved: %(good)s good, %(scrap)s scrap.", good=quantity(form.good.data or 0),
                scrap=quantity(form.scrap.data or 0))
    return Applied(message, url_for("production.floor", token=token), {"id": entry.id})


def _floor_page(work_order_id: int, status: int = 422, **forms):
    """The worker's page again with a form that carries errors (reloaded: it may follow a rollback)."""
    return lambda: render("production/floor.html", status_code=status,
                          **floor_context(db.session.get(WorkOrder, work_order_id), **forms))


def _unfit_photo(work_order: WorkOrder, form, error: UploadError, form_name: str):
    """A photo was refused: nothing of the report is kept; the form comes back with the message."""
    form.photos.errors = [str(error)]
    return Invalid(form, _floor_page(work_order.id, **{form_name: form}), rollback=True)


@bp.post("/w/<token>/do/<name>")
@login_required
def move(token: str, name: str):
    """Start, finish, pass or fail QC, mark materials ready, resume."""
    work_order = by_token(token)
    if name not in ("materials_ready", "start", "finish", "pass_qc", "fail_qc", "unblock"):
        abort(404)
    if name == "fail_qc":
        return _fail_qc(work_order, token)
    services.move(work_order, name, current_user)
    flash(_("Done: %(label)s.", label=_(lifecycle.MACHINE.transitions[name].label)))
    return see_other(url_for("production.floor", token=token))


def _fail_qc(work_order: WorkOrder, token: str):
    """QC rejects a quantity (rework or scrap): the form comes back with its errors (422)."""
    lifecycle.MACHINE.check(work_order, "fail_qc", current_user.roles)  # wrong role 403, wrong state 409
    form = QcFailForm(prefix="q")
    valid = form.validate_on_submit()
    if valid and form.quantity.data > work_order.good:
        form.quantity.errors = [_("At most %(n)s (the good quantity).", n=quantity(work_order.good))]
        valid = False
    if not valid:
        return render("production/floor.html", status_code=422, **floor_context(work_order, qc_fail_form=form))
    services.fail_qc(work_order, current_user, form.quantity.data, form.disposition.data,
                     (form.note.data or "").strip())
    flash(_("QC failed: %(n)s pieces go back to the floor.", n=quantity(form.quantity.data)))
    return see_other(url_for("production.floor", token=token))


@bp.post("/w/<token>/anomaly")
@offline_capable
@login_required
def anomaly(token: str):
    """Raise an anomaly: what happened, a photo, the plan, maybe a new date for the customer. Works offline."""
    work_order = by_token(token)
    form = AnomalyForm(prefix="a")
    if form.validate_on_submit() and form.new_eta.data and not can(current_user, "workorder.manage"):
        form.new_eta.errors = [_("Only the production supervisor may change the date the customer is told.")]
    if form.errors:
        return Invalid(form, _floor_page(work_order.id, anomaly_form=form))
    try:
        item = services.raise_anomaly(work_order, current_user, form.kind.data, form.severity.data,
                                      form.note.data.strip(), (form.contingency.data or "").strip(),
                                      form.new_eta.data, (form.eta_reason.data or "").strip(),
                                      request.files.getlist(form.photos.name), reported_at=replay.recorded_at())
    except UploadError as error:
        return _unfit_photo(work_order, form, error, "anomaly_form")
    return Applied(_("Anomaly recorded; the supervisor sees it."), url_for("production.floor", token=token),
                   {"id": item.id})


@bp.post("/production/anomalies/<int:anomaly_id>/resolve")
@login_required
@requires("workorder.manage")
def resolve(anomaly_id: int):
    """Close an anomaly with what was done."""
    item = load(Anomaly, anomaly_id, "workorder.manage")
    form = ResolveForm(prefix="r")
    if not form.validate_on_submit():
        flash(_("Say what was done."), "error")
    else:
        services.resolve_anomaly(item, current_user, form.resolution.data.strip())
        flash(_("Anomaly resolved."))
    return see_other(url_for("production.floor", token=item.work_order.token))


@bp.get("/production/photos/<int:photo_id>")
@login_required
@requires("workorder.view")
def photo(photo_id: int):
    """A progress or anomaly photo (the older address of photos.full)."""
    return send_photo(get_photo(photo_id, ("progress", "anomaly")))


# --- the work order's materials (领料 / 退料) ---------------------------------------------------------

def materials_context(work_order: WorkOrder, form=None) -> dict:
    """What the materials page shows: each material's need, issued, stock, supply, and its lots."""
    return {"work_order": work_order, "rows": materials.status(work_order, with_lots=True),
            "form": form or IssueForm(prefix="i"),
            "can_issue": can(current_user, "material.issue") and work_order.status != "done"}


@bp.get("/w/<token>/materials")
@login_required
def work_order_materials(token: str):
    """A work order's materials line by line: ready, short, ordered or late; issue by scanning a lot."""
    work_order = by_token(token)
    keep_offline()
    return render("production/materials.html", **materials_context(work_order))


@bp.post("/w/<token>/materials/<direction>")
@offline_capable
@login_required
def issue_material(token: str, direction: str):
    """Issue a lot's material to the work order, or return it to stock. Works offline."""
    if direction not in ("issue", "return"):
        abort(404)
    work_order = by_token(token, "material.issue")
    form = IssueForm(prefix="i")
    lot = materials.lot_by_code(form.lot.data) if form.validate_on_submit() else None
    if form.lot.data and not form.lot.errors and lot is None:
        form.lot.errors = [_("No lot has this code or label. Check the label or type the lot code.")]
    page = _materials_page(work_order.id, form)
    if form.errors:
        return Invalid(form, page)
    try:
        if direction == "issue":
            materials.issue(work_order, lot, form.quantity.data, current_user)
            message = _("Issued %(qty)s %(unit)s of lot %(lot)s.", qty=quantity(form.quantity.data),
                        unit=lot.material.stock_unit, lot=lot.code)
        else:
            materials.return_to_stock(work_order, lot, form.quantity.data, current_user)
            message = _("Returned %(qty)s %(unit)s of lot %(lot)s to stock.", qty=quantity(form.quantity.data),
                        unit=lot.material.stock_unit, lot=lot.code)
    except TransitionError as error:
        form.quantity.errors = [error.translated()]
        return Conflict(error.translated(), _materials_page(work_order.id, form, status=error.status),
                        status=error.status)
    return Applied(message, url_for("production.work_order_materials", token=token))


def _materials_page(work_order_id: int, form, status: int = 422):
    """The materials page again with the form as typed and its errors."""
    return lambda: render("production/materials.html", status_code=status,
                          **materials_context(db.session.get(WorkOrder, work_order_id), form))


# --- one operation's page (a process card's QR) ----------------------------------------------------

def by_operation_token(token: str, action: str = "workorder.view") -> WorkOrderOperation:
    """The operation a process card's QR points to, for the current user doing action on its work
    order (404 for anything else; writers lock the work order, so two reports at once see each other)."""
    operation_id = db.session.scalar(db.select(WorkOrderOperation.id).where(WorkOrderOperation.token == token[:40]))
    if operation_id is None:
        abort(404)
    work_order_id = db.session.scalar(db.select(WorkOrderOperation.work_order_id)
                                      .where(WorkOrderOperation.id == operation_id))
    load(WorkOrder, work_order_id, action, options=work_order_page_options())
    return db.session.get(WorkOrderOperation, operation_id)


def operation_context(operation: WorkOrderOperation, form=None) -> dict:
    """What an operation's page shows: where it stands in the routing, what the previous operation
    passed, what this one did, quick buttons for what it may still pass, the detailed form."""
    work_order = operation.work_order
    previous = ops.previous_of(operation)
    done, limit = ops.good_of(operation), ops.allowed(operation)
    left = max(limit - done, ops.ZERO)
    if operation is work_order.operations[-1]:
        left = min(left, work_order.remaining)
    mine = [r for r in work_order.reports if r.operation_id == operation.id]
    return {
        "operation": operation, "work_order": work_order, "previous": previous,
        "passed": ops.good_of(previous) if previous is not None else None,
        "done": done, "scrap": ops.scrap_of(operation), "left": left,
        "form": form or OperationForm(prefix="p"), "reasons": SCRAP_REASON_LABELS,
        "quick": [q for q in QUICK_AMOUNTS if q <= left],
        "can_report": (not operation.outsourced and work_order.status in ("planned", "materials_ready", "in_progress")
                       and can(current_user, "workorder.report") and left > 0),
        "reports": mine[-5:], "photos": photos_of("progress", [r.id for r in mine[-5:]]),
        "state_labels": lifecycle.STATE_LABELS,
    }


@bp.get("/o/<token>")
@login_required
def operation_floor(token: str):
    """The page a process card's QR for one operation opens: report good and scrap pieces there."""
    operation = by_operation_token(token)
    keep_offline()
    return render("production/operation.html", **operation_context(operation))


@bp.post("/o/<token>/report")
@offline_capable
@login_required
def operation_report(token: str):
    """Report good and scrap pieces, minutes and why scrapped at one operation. Works offline; a
    replay that passes more than the previous operation did is kept as a conflict."""
    operation = by_operation_token(token, "workorder.report")
    form = OperationForm(prefix="p")
    page = _operation_page(operation.id, form)
    if not form.validate_on_submit():
        return Invalid(form, page)
    try:
        entry = services.report(operation.work_order, current_user, form.good.data or 0, form.scrap.data or 0,
                                (form.note.data or "").strip(), request.files.getlist(form.photos.name),
                                occurred_at=replay.recorded_at(), step=operation,
                                minutes=form.minutes.data or 0, scrap_reason=form.scrap_reason.data or "")
    except UploadError as error:
        form.photos.errors = [str(error)]
        return Invalid(form, page, rollback=True)
    except TransitionError as error:
        form.good.errors = [error.translated()]
        return Conflict(error.translated(), _operation_page(operation.id, form, status=error.status),
                        status=error.status)
    message = _("Saved at %(operation)s: %(good)s good, %(scrap)s scrap.", operation=operation.name,
                good=quantity(form.good.data or 0), scrap=quantity(form.scrap.data or 0))
    return Applied(message, url_for("production.operation_floor", token=token), {"id": entry.id})


def _operation_page(operation_id: int, form, status: int = 422):
    """The operation's page again with the form as typed and its errors (reloaded after a rollback)."""
    return lambda: render("production/operation.html", status_code=status,
                          **operation_context(db.session.get(WorkOrderOperation, operation_id), form))


# --- piece-rate earnings (计件工资) --------------------------------------------------------------------

def _day_arg(name: str, default):
    """A date from the query string (YYYY-MM-DD); None when it is not one."""
    from datetime import date
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


@bp.get("/production/piece-rates")
@login_required
@requires("piecerate.view")
def piece_rates():
    """Piece-rate earnings per worker and operation for a period (from–to, the firm's days)."""
    this_month = earnings.periods()[2]
    first, last = _day_arg("from", this_month[1]), _day_arg("to", this_month[2])
    error = None
    if first is None or last is None:
        error = _("Enter the dates as YYYY-MM-DD.")
    elif last < first:
        error = _("The end date is before the start date.")
    elif (last - first).days > 366:
        error = _("Choose at most a year.")
    worker_id = request.args.get("worker", type=int) or None
    people = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.name)).all()
    people = [u for u in people if u.roles & {"worker", "production"}]
    rows = [] if error else earnings.earnings(first, last, worker_id)
    return render("production/earnings.html", rows=rows, first=first, last=last, error=error, people=people,
                  worker_id=worker_id, raw_from=request.args.get("from", ""), raw_to=request.args.get("to", ""),
                  status_code=422 if error else 200)


@bp.get("/production/my-earnings")
@login_required
@requires("workorder.report")
def my_earnings():
    """A worker's own piece-rate earnings on their phone: this week, last week, this month."""
    periods = [(name, first, last, (earnings.earnings(first, last, current_user.id) or [None])[0])
               for name, first, last in earnings.periods()]
    return render("production/earnings_mine.html", periods=periods)
