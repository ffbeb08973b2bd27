"""Forms of packing: carton labels for a line's lot, a carton's weight and size, a supervisor's
override, and a document attached to a shipment."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import DecimalText, WholeNumberText, filled, options

DOCUMENT_KIND_CHOICES = [("material_certificate", _l("Material certificate (材质证明)")),
                         ("inspection_report", _l("Inspection report")), ("other", _l("Other document"))]


class CartonsForm(FlaskForm):
    """Carton labels for goods of one packing-list line and lot: so many of so many each."""

    source = SelectField(_l("Goods (line and lot)"), validate_choice=False, validators=[DataRequired()])
    per_carton = DecimalText(_l("Pieces per carton"), places=3, minimum=0, validators=[filled])
    count = WholeNumberText(_l("Number of cartons"), minimum=1, maximum=200, validators=[filled])
    weight_kg = DecimalText(_l("Weight per carton (kg)"), places=3, minimum=0, validators=[Optional()])
    length_cm = DecimalText(_l("Length (cm)"), places=1, minimum=0, validators=[Optional()])
    width_cm = DecimalText(_l("Width (cm)"), places=1, minimum=0, validators=[Optional()])
    height_cm = DecimalText(_l("Height (cm)"), places=1, minimum=0, validators=[Optional()])


class CartonSizeForm(FlaskForm):
    """A carton as weighed and measured, and what it holds."""

    weight_kg = DecimalText(_l("Weight (kg)"), places=3, minimum=0, validators=[Optional()])
    length_cm = DecimalText(_l("Length (cm)"), places=1, minimum=0, validators=[Optional()])
    width_cm = DecimalText(_l("Width (cm)"), places=1, minimum=0, validators=[Optional()])
    height_cm = DecimalText(_l("Height (cm)"), places=1, minimum=0, validators=[Optional()])
    contents = StringField(_l("Contents"), validators=[Optional(), Length(max=500)])


class OverrideForm(FlaskForm):
    """A supervisor closes a packing list that does not match what was counted."""

    reason = TextAreaField(_l("Why it is closed as it is"),
                           validators=[DataRequired(message=_l("Say why the packing list is closed as it is.")),
                                       Length(max=2000)])


class DocumentForm(FlaskForm):
    """A PDF or an image to go with the shipment."""

    kind = SelectField(_l("Kind of document"), choices=options(*DOCUMENT_KIND_CHOICES))
    title = StringField(_l("Title (e.g. heat number, report number)"), validators=[Optional(), Length(max=200)])
    file = FileField(_l("PDF or image"))
    customer_visible = BooleanField(_l("The customer sees it"), default=True)
