"""The planner's pages: work centres, a product's routing, capacity and load per week, the board,
and what is printed for the floor (labels at exact printer sizes, A4 label sheets, process cards)."""
from datetime import date, timedelta

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import qr
from ..auth import User
from ..customers import Product
from ..extensions import db
from ..inputs import bounded_int, optional_row_id
from ..forms import DecimalText, WholeNumberText, filled
from ..htmx import render, see_other
from ..i18n import firm_today
from ..loading import load
from ..orders import Order, scope_orders
from ..permissions import can, requires
from ..purchasing import Supplier
from ..stock import Lot
from . import board as board_service
from . import bp, centres, labels
from .models import WorkCentre, WorkOrder, WorkOrderOperation
from .views import home_url


def may_see_rates() -> bool:
    """Hourly rates are prices: shown to the roles that see prices (the stock pages' rule)."""
    return can(current_user, "stock.prices")


class WorkCentreForm(FlaskForm):
    """A work centre: code, name, hours a day, shifts, and (for price roles) its hourly rate."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    hours_per_day = DecimalText(_l("Hours per shift and working day"), places=2, minimum=0, maximum=24,
                                validators=[filled])
    shifts = WholeNumberText(_l("Shifts"), minimum=1, maximum=3, validators=[filled])
    hourly_rate = DecimalText(_l("Hourly rate (yuan)"), places=2, minimum=0, maximum=centres.MAX_HOURLY_RATE)
    active = BooleanField(_l("In use"), default=True)

    def __init__(self, *args, centre=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.centre = centre

    def validate_code(self, field):
        """Codes are unique."""
        other = db.session.scalar(db.select(WorkCentre).where(WorkCentre.code == field.data.strip()))
        if other is not None and other is not self.centre:
            raise ValidationError(_l("Another work centre has this code."))

    def validate_hours_per_day(self, field):
        """Hours × shifts cannot pass a day."""
        if field.data is not None and self.shifts.data and field.data * self.shifts.data > 24:
            raise ValidationError(_l("Hours per shift × shifts cannot be more than 24 hours a day."))


def _centre_values(form: WorkCentreForm) -> dict:
    values = {"code": form.code.data.strip(), "name": form.name.data.strip(),
              "hours_per_day": form.hours_per_day.data, "shifts": form.shifts.data, "active": form.active.data}
    if may_see_rates():  # others cannot see the rate, so they do not change it
        values["hourly_rate"] = form.hourly_rate.data or 0
    return values


@bp.route("/production/centres", methods=["GET", "POST"])
@login_required
@requires("workorder.view")
def centres_index():
    """The work centres, and a form to add one (supervisors)."""
    form = WorkCentreForm(prefix="c")
    if request.method == "POST":
        if not can(current_user, "workorder.manage"):
            abort(403)
        if form.validate_on_submit():
            centre = centres.save_centre(None, _centre_values(form), current_user)
            flash(_("Work centre %(code)s added.", code=centre.code))
            return see_other(url_for("production.centres_index"))
    rows = db.session.scalars(db.select(WorkCentre).order_by(WorkCentre.active.desc(), WorkCentre.code)).all()
    return render("production/centres.html", centres=rows, form=form, rates=may_see_rates(),
                  status_code=422 if form.errors else 200)


@bp.route("/production/centres/<int:centre_id>", methods=["GET", "POST"])
@login_required
@requires("workorder.manage")
def centre_edit(centre_id: int):
    """Change a work centre."""
    centre = load(WorkCentre, centre_id, "workorder.manage")
    form = WorkCentreForm(prefix="c", obj=centre, centre=centre)
    if form.validate_on_submit():
        centres.save_centre(centre, _centre_values(form), current_user)
        flash(_("Work centre %(code)s saved.", code=centre.code))
        return see_other(url_for("production.centres_index"))
    return render("production/centre_edit.html", centre=centre, form=form, rates=may_see_rates(),
                  status_code=422 if form.errors else 200)


@bp.get("/production/centres/load")
@login_required
@requires("workorder.view")
def centres_load():
    """Load against capacity per work centre (rows) and week (columns), overloads marked."""
    try:
        weeks = bounded_int(request.args.get("weeks", "8"), 1, 26)
        first = date.fromisoformat(request.args["from"]) if request.args.get("from") else firm_today()
    except ValueError:
        abort(400)
    data = centres.load_table(centres.week_start(first), weeks)
    return render("production/centres_load.html", count=weeks, **data,
                  previous=centres.week_start(first) - timedelta(weeks=weeks),
                  following=centres.week_start(first) + timedelta(weeks=weeks))


# --- the routing editor ----------------------------------------------------------------------------

SPARE_ROWS = 2


def _steps_as_rows(product_id: int) -> list[centres.StepInput]:
    from ..forms import input_number
    from .routing import routing_of
    return [centres.StepInput(position=str(s.position), name=s.name, work_centre_id=str(s.work_centre_id or ""),
                              minutes_per_piece=input_number(s.minutes_per_piece, 3),
                              piece_rate=input_number(s.piece_rate, 4) if s.piece_rate is not None else "",
                              outsourced=s.outsourced, supplier_id=str(s.supplier_id or ""),
                              lead_days=str(s.lead_days or ""))
            for s in routing_of(product_id)]


def _typed_rows() -> list[centres.StepInput]:
    """The editor's rows as posted (row i's fields are named step-<i>-<field>)."""
    form, rows = request.form, []
    count = request.form.get("rows", 0, type=lambda raw: bounded_int(raw, 0, 200))
    for i in range(count):
        def get(key, i=i):
            return (form.get(f"step-{i}-{key}") or "").strip()
        rows.append(centres.StepInput(position=get("position"), name=get("name")[:100],
                                      work_centre_id=get("work_centre_id"),
                                      minutes_per_piece=get("minutes_per_piece"), piece_rate=get("piece_rate"),
                                      outsourced=bool(get("outsourced")), supplier_id=get("supplier_id"),
                                      lead_days=get("lead_days"), remove=bool(get("remove"))))
    return rows


@bp.route("/production/routing/<int:product_id>", methods=["GET", "POST"])
@login_required
@requires("workorder.view")
def routing(product_id: int):
    """A product's operations in order: where each is done, minutes and piece rate, or outsourced
    to a supplier with its lead time. Reorder by position numbers; add in the spare rows."""
    product = load(Product, product_id, "workorder.view", lock=False)
    # a centre taken out of use stays valid for the steps already at it (and listed for them only)
    active_centres = db.session.scalars(db.select(WorkCentre).order_by(WorkCentre.code)).all()
    suppliers = db.session.scalars(db.select(Supplier).order_by(Supplier.name)).all()
    status = 200
    if request.method == "POST":
        if not can(current_user, "workorder.manage"):
            abort(403)
        rows = _typed_rows()
        moves = request.form.get("move", "")
        if moves:  # ↑/↓ buttons: swap two rows' positions and show the editor again
            rows = _moved(rows, moves)
        else:
            steps = centres.check_steps(rows, {c.id for c in active_centres}, {s.id for s in suppliers})
            if steps is not None:
                centres.save_routing(product, steps, current_user)
                flash(_("Routing of %(model)s saved: %(n)s operations.", model=product.model, n=len(steps)))
                return see_other(url_for("production.routing", product_id=product.id))
            status = 422
            flash(_("The routing was not saved: see the rows marked below."), "error")
    else:
        rows = _steps_as_rows(product.id)
    rows = [r for r in rows if not (r.blank and not r.errors)] + [centres.StepInput() for _ in range(SPARE_ROWS)]
    return render("production/routing.html", product=product, rows=rows, centres=active_centres,
                  suppliers=suppliers, editable=can(current_user, "workorder.manage"), status_code=status)


def _moved(rows: list[centres.StepInput], move: str) -> list[centres.StepInput]:
    """The rows with one moved up or down ("3-up", "0-down"), renumbered 1, 2, …"""
    index, _, way = move.partition("-")
    i = optional_row_id(index)
    if i is None and index.strip() == "0":
        i = 0
    if i is None or way not in ("up", "down"):
        abort(400)
    j = i - 1 if way == "up" else i + 1
    if 0 <= i < len(rows) and 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
    for n, row in enumerate(rows):
        if not row.blank:
            row.position = str(n + 1)
    return rows


# --- the board -------------------------------------------------------------------------------------

@bp.get("/production/board")
@login_required
@requires("workorder.view")
def board():
    """Open work orders as bars on a time axis, flagged late, at risk, blocked or waiting; filter
    by work centre and owner."""
    centre_id = request.args.get("centre", "")
    owner_id = request.args.get("owner", "")
    centre_id, owner_id = optional_row_id(centre_id), optional_row_id(owner_id)
    # A page of the rows (?after= the last one shown), flagged and ordered among every open one.
    data = board_service.board(centre_id, owner_id, scope=scope_orders(current_user, WorkOrder.order_id),
                               after=request.args.get("after"), scope_key=current_user.id)
    owners = db.session.scalars(db.select(User).where(User.id.in_(
        db.select(WorkOrder.owner_id).where(WorkOrder.status.in_(board_service.OPEN_STATES))))
        .order_by(User.name)).all()
    all_centres = db.session.scalars(db.select(WorkCentre).order_by(WorkCentre.code)).all()
    data["axis"] = Markup(data["axis"])
    return render("production/board.html", **data, centre_id=centre_id, owner_id=owner_id, owners=owners,
                  centres=all_centres, flag_label=board_service.flag_label)


# --- labels and cards -------------------------------------------------------------------------------

def _size(size: str) -> str:
    if labels.size_of(size) is None:
        abort(404)
    return size


@bp.get("/production/wo/<int:work_order_id>/label/<size>")
@login_required
@requires("workorder.view")
def label_sized(work_order_id: int, size: str):
    """A work order's label at an exact printer size (60×40 or 100×70 mm), printed from the browser."""
    size = _size(size)
    work_order = load(WorkOrder, work_order_id, "workorder.view")
    url, lines = labels.work_order_label(work_order)
    return render("production/label_print.html", size=size, dims=labels.SIZES[size], title=work_order.number,
                  svgs=[Markup(labels.sized_svg(url, lines, size))],
                  pdf=url_for("production.label_pdf", work_order_id=work_order.id, size=size),
                  back=home_url(work_order))


@bp.get("/production/lots/<int:lot_id>/label/<size>")
@login_required
@requires("stock.view")
def lot_label_sized(lot_id: int, size: str):
    """A stock lot's label at an exact printer size, printed from the browser."""
    size = _size(size)
    lot = load(Lot, lot_id, "stock.view")
    url, lines = labels.lot_label(lot)
    return render("production/label_print.html", size=size, dims=labels.SIZES[size], title=lot.code,
                  svgs=[Markup(labels.sized_svg(url, lines, size))],
                  pdf=url_for("production.lot_label_pdf", lot_id=lot.id, size=size),
                  back=url_for("stock.lot_label", lot_id=lot.id))


def order_work_orders(order_id: int) -> tuple[Order, list[WorkOrder]]:
    """An order (for a viewer of work orders) and its work orders with what their labels print."""
    order = load(Order, order_id, "workorder.view")
    rows = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)
                              .options(joinedload(WorkOrder.line)).order_by(WorkOrder.id)).all()
    return order, rows


@bp.get("/production/orders/<int:order_id>/labels")
@login_required
@requires("workorder.view")
def label_sheet(order_id: int):
    """All labels of an order's work orders on A4 sheets (cut apart), 60×40 or 100×70 mm each."""
    size = _size(request.args.get("size", "60x40"))
    order, work_orders = order_work_orders(order_id)
    svgs = [Markup(labels.sized_svg(*labels.work_order_label(w), size)) for w in work_orders]
    return render("production/label_sheet.html", order=order, size=size, dims=labels.SIZES[size], svgs=svgs,
                  pdf=url_for("production.label_sheet_pdf", order_id=order.id, size=size))


def card_rows(work_order: WorkOrder) -> list[dict]:
    """A process card's operations: position, name, work centre, planned minutes, QR URL."""
    return [{"operation": op, "url": labels.operation_url(op),
             "centre": op.work_centre.name if op.work_centre else "",
             "minutes": op.minutes_per_piece * work_order.quantity}
            for op in work_order.operations]


@bp.get("/production/wo/<int:work_order_id>/card")
@login_required
@requires("workorder.view")
def process_card(work_order_id: int):
    """The process card (流程卡) that travels with the parts: every operation with its own QR."""
    work_order = load(WorkOrder, work_order_id, "workorder.view",
                      options=(selectinload(WorkOrder.operations).joinedload(WorkOrderOperation.work_centre),))
    url, lines = labels.work_order_label(work_order)
    rows = card_rows(work_order)
    return render("production/card.html", work_order=work_order, rows=rows,
                  own_qr=Markup(qr.svg(url).replace('role="img"', f'role="img" aria-label="{escape(work_order.number)}"')),
                  qrs=[Markup(qr.svg(r["url"]).replace(
                      'role="img"', f'role="img" aria-label="{r["operation"].position} {escape(r["operation"].name)}"'))
                       for r in rows])
