"""Forms of the warehouse's pages: materials, locations, the BOM editor, a lot's manual movements,
and starting a stocktake."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DecimalText, filled, positive
from ..inputs import optional_row_id

# Quantities per unit and conversion factors are kept to 10⁻⁶ (db_types.Fine).
FINE_PLACES = 6
MOST = Decimal("1000000000")


def choice_id(value) -> int:
    """A chosen row's id; 0 for none and for anything that is no id (text, out of range): the view
    then says to choose from the list, and no query ever sees a number beyond the id column."""
    return optional_row_id(value) or 0


class MaterialForm(FlaskForm):
    """A material: code, name, units and their conversion, customer-supplied, inspection, product."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    stock_unit = StringField(_l("Stock unit (counted in)"), validators=[DataRequired(), Length(max=20)])
    purchase_unit = StringField(_l("Purchase unit (bought in)"), validators=[DataRequired(), Length(max=20)])
    purchase_factor = DecimalText(_l("Stock units per purchase unit"), places=FINE_PLACES, minimum=0,
                                  maximum=MOST, validators=[filled, positive])
    customer_id = SelectField(_l("Customer-supplied (客供料) by"), coerce=choice_id, validate_choice=False)
    product_id = SelectField(_l("Stock of the product"), coerce=choice_id, validate_choice=False)
    inspect_on_receipt = BooleanField(_l("Inspect every receipt before use"))
    active = BooleanField(_l("In use"), default=True)


class LocationForm(FlaskForm):
    """A new location."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])


class ScrapForm(FlaskForm):
    """Scrap part of a lot in one location, with the reason."""

    location_id = SelectField(_l("Location"), coerce=choice_id, validate_choice=False)
    quantity = DecimalText(_l("Quantity to scrap"), places=FINE_PLACES, minimum=0, maximum=MOST,
                           validators=[filled, positive])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class AdjustForm(FlaskForm):
    """Correct a lot's quantity in one location up or down, with the reason."""

    location_id = SelectField(_l("Location"), coerce=choice_id, validate_choice=False)
    quantity = DecimalText(_l("Change (+ more, − less)"), places=FINE_PLACES, minimum=-MOST, maximum=MOST,
                           validators=[filled])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

    def validate_quantity(self, field):
        """Zero changes nothing."""
        if field.data is not None and field.data == 0:
            raise ValidationError(_l("Enter a change other than zero."))


class RelocateForm(FlaskForm):
    """Move part of a lot from one location to another."""

    location_id = SelectField(_l("From"), coerce=choice_id, validate_choice=False)
    to_location_id = SelectField(_l("To"), coerce=choice_id, validate_choice=False)
    quantity = DecimalText(_l("Quantity to move"), places=FINE_PLACES, minimum=0, maximum=MOST,
                           validators=[filled, positive])

    def validate_to_location_id(self, field):
        """Somewhere else."""
        if field.data == self.location_id.data:
            raise ValidationError(_l("Choose another location than the one it is in."))


class StocktakeStartForm(FlaskForm):
    """Which location to count."""

    location_id = SelectField(_l("Location to count"), coerce=choice_id, validate_choice=False)


class AddLotForm(FlaskForm):
    """A lot found on the shelf that is not on the sheet: its code or its label's address."""

    code = StringField(_l("Lot code or label"), validators=[DataRequired(), Length(max=300)])


class BomNoteForm(FlaskForm):
    """What changed, for the versions' history (the lines are read from the repeated rows)."""

    note = TextAreaField(_l("What changed"), validators=[Optional(), Length(max=1000)])

