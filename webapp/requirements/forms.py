"""Requirement forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DecimalText, EmailAddress, filled, options, positive
from ..labels import default_unit

PRIORITY_CHOICES = [("urgent", _l("Urgent")), ("regular", _l("Regular")),
                    ("long_term", _l("Long-term"))]


class RequirementForm(FlaskForm):
    """The fields of the requirement record (表1)."""

    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired()])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = TelField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), EmailAddress(max=200)])
    # Empty with a catalogue product picked: filled with that product's name (views.fill_product).
    product = StringField(_l("Product or service"), validators=[Length(max=200)],
                          filters=[lambda v: v.strip() if v else v])
    product_id = SelectField(_l("Catalogue product"), coerce=int, validators=[Optional()])
    customer_part_no = StringField(_l("Customer part no."), validators=[Optional(), Length(max=60)],
                                   filters=[lambda v: v.strip() if v else v])
    drawing_rev = StringField(_l("Drawing rev."), validators=[Optional(), Length(max=20)],
                              filters=[lambda v: v.strip() if v else v])
    specs = TextAreaField(_l("Specifications"), validators=[Optional(), Length(max=4000)])
    quality_standard = TextAreaField(_l("Quality standard"), validators=[Optional(), Length(max=2000)])
    quantity = DecimalText(_l("Quantity"), places=3, validators=[filled, positive])
    unit = StringField(_l("Unit"), default=default_unit, validators=[DataRequired(), Length(max=20)])
    expected_date = DateField(_l("Expected delivery date"), validators=[Optional()])
    budget_min = DecimalText(_l("Budget from"), minimum=0)
    budget_max = DecimalText(_l("Budget to"), minimum=0)
    special_requirements = TextAreaField(_l("Special requirements"), validators=[Optional(), Length(max=4000)])
    priority = SelectField(_l("Priority"), choices=options(*PRIORITY_CHOICES), default="regular")

    def validate_product(self, field):
        """Typed, or taken from the catalogue product picked."""
        if not field.data and not self.product_id.data:
            raise ValidationError(_l("Enter the product or service, or pick one from the catalogue."))

    def validate_budget_max(self, field):
        """The range must not be upside down."""
        if field.data is not None and self.budget_min.data is not None and field.data < self.budget_min.data:
            raise ValidationError(_l("The upper budget is below the lower one."))


class AttachmentForm(FlaskForm):
    """A drawing or document; the same title again makes a new revision."""

    title = StringField(_l("Title (e.g. drawing number)"), validators=[DataRequired(), Length(max=200)])
    file = FileField(_l("File"))


class ClarificationForm(FlaskForm):
    """The customer's question about the record."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    comment = TextAreaField(_l("What should change or be explained?"),
                            validators=[DataRequired(), Length(max=4000)])


class ConfirmForm(FlaskForm):
    """The customer confirms the record."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
