"""Purchasing forms: suppliers, a request typed by hand, a purchase order from requests, a receipt."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import DecimalText, WholeNumberText, filled

# What one receipt may be at most (the ledger's own limit) and its smallest step.
LEAST = Decimal("0.001")


def _strip(value):
    return (value or "").strip()


class SupplierForm(FlaskForm):
    """A supplier's name, contact and usual lead time."""

    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    contact = StringField(_l("Contact person"), filters=[_strip], validators=[Length(max=100)])
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Length(max=40)])
    email = StringField(_l("E-mail"), filters=[_strip], validators=[Optional(), Email(), Length(max=200)])
    lead_days = WholeNumberText(_l("Lead time (days)"), minimum=0, maximum=365, default=7, validators=[filled])


class RequestForm(FlaskForm):
    """A purchase request typed by hand: a material, how much (stock unit), by when."""

    material_id = SelectField(_l("Material"), coerce=int)
    quantity = DecimalText(_l("Quantity (stock unit)"), places=3, minimum=LEAST, validators=[filled])
    needed_by = DateField(_l("Needed by"), validators=[Optional()])
    note = TextAreaField(_l("Note"), filters=[_strip], validators=[Length(max=2000)])


class OrderForm(FlaskForm):
    """A purchase order from the selected requests: supplier, expected date, note (prices per
    material are posted as price-<material id> and read in the view)."""

    supplier_id = SelectField(_l("Supplier"), coerce=int)
    expected_date = DateField(_l("Expected date"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), filters=[_strip], validators=[Length(max=2000)])


class CancelForm(FlaskForm):
    """Why a purchase order is cancelled."""

    reason = StringField(_l("Reason"), filters=[_strip], validators=[Length(max=500)])


class ReceiveForm(FlaskForm):
    """What arrived against a purchase order line: quantity in one of the material's two units, the
    lot (our code, the supplier's batch or 炉号), where it goes, and the price if it differs."""

    quantity = DecimalText(_l("Quantity received"), places=3, minimum=LEAST, validators=[filled])
    # Not checked here: the service refuses any other unit with a message naming the two allowed.
    unit = SelectField(_l("Unit"), validate_choice=False)
    lot_code = StringField(_l("Lot code (empty: one is made)"), filters=[_strip], validators=[Length(max=60)])
    supplier_lot = StringField(_l("Supplier lot / heat number (炉号)"), filters=[_strip],
                               validators=[Length(max=60)])
    location_id = SelectField(_l("Location"), coerce=int)
    unit_price = DecimalText(_l("Price per purchase unit (empty: the order's)"), places=4, minimum=0)


class CustomerReceiveForm(FlaskForm):
    """Material the customer supplies (客供料), received without a purchase order."""

    material_id = SelectField(_l("Customer's material"), coerce=int)
    quantity = DecimalText(_l("Quantity (stock unit)"), places=3, minimum=LEAST, validators=[filled])
    lot_code = StringField(_l("Lot code (empty: one is made)"), filters=[_strip], validators=[Length(max=60)])
    supplier_lot = StringField(_l("Customer's lot / heat number (炉号)"), filters=[_strip],
                               validators=[Length(max=60)])
    location_id = SelectField(_l("Location"), coerce=int)
