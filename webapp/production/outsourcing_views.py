"""Outsourced operations (外协): the batches out and due back, sending a batch, receiving it back."""
from decimal import Decimal

from flask import flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from ..extensions import db
from ..forms import DecimalText, filled, positive
from ..htmx import render, see_other
from ..loading import load
from ..permissions import requires
from ..statemachine import TransitionError
from ..templating import quantity
from . import DOMAIN, bp, outsourcing
from .models import OutsourceTransfer, WorkOrder, WorkOrderOperation

# Who sends batches out and takes them back: the supervisor, operations, purchasing (the supplier's
# side), the warehouse (the goods pass its door). Everyone who sees work orders sees the list.
DOMAIN.actions.update({"outsource.manage": frozenset({"production", "operations", "purchasing", "warehouse"})})


class SendForm(FlaskForm):
    """A batch to send out: how many, by when it is due back, a note for the supplier."""

    quantity = DecimalText(_l("Pieces to send"), places=3, validators=[filled, positive])
    due_date = DateField(_l("Due back"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class ReceiveForm(FlaskForm):
    """A batch back: good and scrap pieces and what the supplier charged."""

    good = DecimalText(_l("Good pieces back"), places=3, minimum=0, validators=[filled])
    scrap = DecimalText(_l("Scrap pieces"), places=3, minimum=0, default=0)
    cost = DecimalText(_l("Cost (without tax)"), places=2, minimum=0, default=0)
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


@bp.get("/production/outsourcing")
@login_required
@requires("workorder.view")
def outsourcing_list():
    """Batches out at suppliers and when they are due back; late ones first."""
    transfers = outsourcing.open_transfers()
    return render("production/outsourcing.html", transfers=transfers, late=outsourcing.late)


def operation_context(operation: WorkOrderOperation, send_form=None, receive_forms=None, problem: str = "") -> dict:
    """What an outsourced operation's page shows."""
    transfers = db.session.scalars(db.select(OutsourceTransfer).where(OutsourceTransfer.operation_id == operation.id)
                                   .order_by(OutsourceTransfer.id)).all()
    return {"operation": operation, "work_order": operation.work_order, "transfers": transfers,
            "passed": outsourcing.passed_before(operation), "sent": outsourcing.sent_of(operation),
            "good": outsourcing.good_of(operation), "late": outsourcing.late,
            "send_form": send_form or SendForm(prefix="s", data={"due_date": outsourcing.default_due(operation)}),
            "receive_forms": receive_forms or {}, "problem": problem, "receive_form": lambda t: ReceiveForm(prefix=f"r{t.id}")}


def _operation(operation_id: int, action: str = "workorder.view") -> WorkOrderOperation:
    """The operation, for someone who may see (or act on) its work order."""
    operation = db.session.get(WorkOrderOperation, operation_id)
    if operation is None:
        from flask import abort
        abort(404)
    load(WorkOrder, operation.work_order_id, action)
    return operation


@bp.get("/production/operations/<int:operation_id>/outsource")
@login_required
def outsourced_operation(operation_id: int):
    """An outsourced operation: what may go, the batches sent and received."""
    return render("production/outsourced.html", **operation_context(_operation(operation_id)))


@bp.post("/production/operations/<int:operation_id>/outsource")
@login_required
@requires("outsource.manage")
def send_batch(operation_id: int):
    """Send a batch out for the operation."""
    operation = _operation(operation_id, "outsource.manage")
    form = SendForm(prefix="s")
    if not form.validate_on_submit():
        return render("production/outsourced.html", status_code=422, **operation_context(operation, send_form=form))
    try:
        transfer = outsourcing.send_out(operation, form.quantity.data, form.due_date.data, current_user,
                                        (form.note.data or "").strip())
    except TransitionError as error:
        form.quantity.errors = [error.translated()]
        return render("production/outsourced.html", status_code=error.status,
                      **operation_context(operation, send_form=form))
    flash(_("Batch %(number)s sent: %(n)s pieces.", number=transfer.number, n=quantity(transfer.sent_qty)))
    return see_other(url_for("production.outsourced_operation", operation_id=operation.id))


@bp.post("/production/outsourcing/<int:transfer_id>/receive")
@login_required
@requires("outsource.manage")
def receive_batch(transfer_id: int):
    """Receive a batch back: good, scrap, cost."""
    transfer = db.session.scalar(db.select(OutsourceTransfer).where(OutsourceTransfer.id == transfer_id)
                                 .options(joinedload(OutsourceTransfer.operation)))
    if transfer is None:
        from flask import abort
        abort(404)
    operation = _operation(transfer.operation_id, "outsource.manage")
    form = ReceiveForm(prefix=f"r{transfer.id}")
    if not form.validate_on_submit():
        return render("production/outsourced.html", status_code=422,
                      **operation_context(operation, receive_forms={transfer.id: form}))
    try:
        zero = Decimal("0")
        outsourcing.receive_back(transfer, form.good.data, form.scrap.data or zero, form.cost.data or zero,
                                 current_user, (form.note.data or "").strip())
    except TransitionError as error:  # said above the batches: a batch already back shows no form
        return render("production/outsourced.html", status_code=error.status,
                      **operation_context(operation, receive_forms={transfer.id: form}, problem=error.translated()))
    flash(_("Batch %(number)s received back.", number=transfer.number))
    return see_other(url_for("production.outsourced_operation", operation_id=operation.id))
