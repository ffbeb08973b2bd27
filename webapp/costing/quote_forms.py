"""The quotation form: customer, currency, tax, validity, target margin, lines from the catalogue,
and per category of the estimate a value typed by hand with its note."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..forms import DecimalText, filled, positive
from ..labels import default_unit
from .forms import CATEGORY_LABELS

# Where a computed number came from, as the page says it.
SOURCE_LABELS = {
    "moving_average": _l("moving average"), "last_price": _l("last price paid"),
    "customer_supplied": _l("customer-supplied"), "missing": _l("no cost"),
    "made_here": _l("made here: its own BOM and routing"),
    "piece_rate": _l("piece rate"), "hourly_rate": _l("work-centre hourly rate"),
    "outsourced": _l("outsourced, price per piece"),
}


class QuoteLineForm(Form):
    """One line: the model of a catalogue product, its quantity and unit, a price typed or left to
    the target margin; a wholly empty line is ignored."""

    model = StringField(_l("Model"), validators=[Optional(), Length(max=60)])
    quantity = DecimalText(_l("Quantity"), places=3, validators=[positive])
    unit = StringField(_l("Unit"), default=default_unit, validators=[Optional(), Length(max=20)])
    unit_price = DecimalText(_l("Unit price excl. tax (blank: from the margin)"), places=2, minimum=0)

    def is_blank(self) -> bool:
        """Nothing but the default unit was entered."""
        return not any((self.model.data, getattr(self.quantity, "raw", ""), getattr(self.unit_price, "raw", "")))

    def validate(self, extra_validators=None):
        """A line that is not blank needs a model and a quantity."""
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        if not (self.model.data or "").strip():
            self.model.errors = list(self.model.errors) + [_l("Enter the model.")]
            ok = False
        if self.quantity.data is None and not self.quantity.errors:
            self.quantity.errors = list(self.quantity.errors) + [_l("Enter the quantity.")]
            ok = False
        if not (self.unit.data or "").strip():
            self.unit.errors = list(self.unit.errors) + [_l("Enter the unit.")]
            ok = False
        return ok


class QuoteForm(FlaskForm):
    """The quotation's header, lines and typed estimates."""

    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    currency = StringField(_l("Currency"), default="CNY", validators=[
        DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("A three-letter code, e.g. CNY."))],
        filters=[lambda v: v.strip().upper() if v else v])
    tax_rate = DecimalText(_l("Tax rate %"), minimum=0, maximum=100, validators=[filled])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    target_margin = DecimalText(_l("Target margin % (on the price without tax)"), minimum=0,
                                maximum=99)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    lines = FieldList(FormField(QuoteLineForm), min_entries=1, max_entries=50)
    typed_material = DecimalText(CATEGORY_LABELS["material"], minimum=0)
    note_material = StringField(_l("Where the typed number comes from"), validators=[Length(max=500)])
    typed_labour = DecimalText(CATEGORY_LABELS["labour"], minimum=0)
    note_labour = StringField(_l("Where the typed number comes from"), validators=[Length(max=500)])
    typed_overhead = DecimalText(CATEGORY_LABELS["overhead"], minimum=0)
    note_overhead = StringField(_l("Where the typed number comes from"), validators=[Length(max=500)])
    typed_logistics = DecimalText(CATEGORY_LABELS["logistics"], minimum=0)
    note_logistics = StringField(_l("Where the typed number comes from"), validators=[Length(max=500)])
    typed_aftersales = DecimalText(CATEGORY_LABELS["aftersales"], minimum=0)
    note_aftersales = StringField(_l("Where the typed number comes from"), validators=[Length(max=500)])

    def validate_lines(self, field):
        """At least one line."""
        if all(entry.form.is_blank() for entry in field.entries):
            raise ValidationError(_l("Add at least one line."))

    def validate_note_material(self, field):
        """A computed number overridden by hand says why."""
        self._why("material")

    def validate_note_labour(self, field):
        """A computed number overridden by hand says why."""
        self._why("labour")

    def validate_note_overhead(self, field):
        """A computed number overridden by hand says why."""
        self._why("overhead")

    def _why(self, category: str) -> None:
        if getattr(self, f"typed_{category}").data is not None and not (getattr(self, f"note_{category}").data or "").strip():
            raise ValidationError(_l("Say where the typed number comes from."))


class DecisionForm(FlaskForm):
    """The customer's answer recorded by sales, or why the quotation is withdrawn."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
