"""Stocking instructions (备货指令): work orders that make a product for stock, with no customer order.

The supervisor or operations raise one for an item the firm keeps in stock (safety stock, a forecast,
a framework customer's call-offs); it is planned, reported, inspected and shown on the board and the
daily sheet (生产/备货跟踪表) like any work order, and its good pieces become free stock when QC passes them."""
from decimal import Decimal

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload, selectinload
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..auth import User
from ..customers import Product
from ..extensions import db
from ..forms import DecimalText, filled, positive
from ..htmx import render, see_other
from ..i18n import firm_today
from ..inputs import optional_row_id
from ..permissions import requires
from ..statemachine import TransitionError
from . import bp, services
from .models import WorkOrder

# Done instructions stay on the page this long (days) so the supervisor sees what reached stock.
RECENT_DAYS = 30


def _row_id(value) -> int:
    """A chosen row's id; 0 for none and for anything that is no id (the view asks to choose)."""
    return optional_row_id(value) or 0


class StockingForm(FlaskForm):
    """A stocking instruction: which product, how many, by when, why, and who runs it."""

    product_id = SelectField(_l("Product"), coerce=_row_id, validate_choice=False)
    quantity = DecimalText(_l("Quantity"), places=3, maximum=services.MAX_STOCKING, validators=[filled, positive])
    due = DateField(_l("In stock by"), validators=[DataRequired(message=_l("Choose the day it is needed in stock."))])
    purpose = StringField(_l("Why (safety stock, forecast, framework order…)"), validators=[Length(max=200)])
    owner_id = SelectField(_l("Owner"), coerce=_row_id, validate_choice=False)

    def validate_product_id(self, field):
        """A product from the catalogue (stock is kept of catalogue products only)."""
        if not field.data or db.session.get(Product, field.data) is None:
            raise ValidationError(_l("Choose a product from the catalogue."))

    def validate_due(self, field):
        """Stock cannot be made for a day that has passed."""
        if field.data is not None and field.data < firm_today():
            raise ValidationError(_l("The due date has passed; choose today or a later day."))


def _choices(form: StockingForm) -> None:
    """The catalogue's products and the floor's people to choose from."""
    form.product_id.choices = [(0, "—")] + [
        (p.id, f"{p.model} · {p.name}") for p in db.session.scalars(db.select(Product).order_by(Product.model))]
    form.owner_id.choices = [(0, "—")] + [
        (u.id, u.name) for u in db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.name))
        if u.roles & {"worker", "production"}]


def _instructions() -> tuple[list[WorkOrder], list[WorkOrder]]:
    """Open stocking instructions (by due date) and those done in the last RECENT_DAYS days."""
    # Each row shows its good pieces (its reports, operations and QC rejections) and its owner.
    stocking = (db.select(WorkOrder).where(WorkOrder.order_id.is_(None))
                .options(selectinload(WorkOrder.reports), selectinload(WorkOrder.operations),
                         selectinload(WorkOrder.rejections), joinedload(WorkOrder.owner)))
    open_ones = db.session.scalars(stocking.where(WorkOrder.status != "done")
                                   .order_by(WorkOrder.planned_qc.is_(None), WorkOrder.planned_qc, WorkOrder.id)).all()
    since = firm_today().toordinal() - RECENT_DAYS
    done = [w for w in db.session.scalars(stocking.where(WorkOrder.status == "done")
                                          .order_by(WorkOrder.actual_done.desc()).limit(50))
            if w.actual_done is not None and w.actual_done.date().toordinal() >= since]
    return list(open_ones), done


@bp.get("/production/stocking")
@login_required
@requires("workorder.view")
def stocking():
    """Stocking instructions: the open ones with their progress, the recent done ones, and a form for a new one."""
    form = StockingForm(data={"product_id": request.args.get("product", type=int) or 0})
    _choices(form)
    open_ones, done = _instructions()
    return render("production/stocking.html", form=form, open_ones=open_ones, done=done)


@bp.post("/production/stocking")
@login_required
@requires("workorder.manage")
def create_stocking():
    """Raise a stocking instruction: a work order for stock, planned back from its due date."""
    form = StockingForm()
    _choices(form)
    if form.validate_on_submit():
        product = db.session.get(Product, form.product_id.data)
        owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
        try:
            work_order = services.create_stocking(product, form.quantity.data or Decimal("0"), form.due.data,
                                                  (form.purpose.data or "").strip(), current_user, owner=owner)
        except TransitionError as error:  # the form checked product and date: what is left is the quantity
            form.quantity.errors = [error.translated()]
        else:
            flash(_("Stocking instruction %(number)s raised. Print its label or process card for the floor.",
                    number=work_order.number))
            return see_other(url_for("production.floor", token=work_order.token))
    open_ones, done = _instructions()
    return render("production/stocking.html", form=form, open_ones=open_ones, done=done, status_code=422)
