"""Customer and product forms."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from ..forms import DecimalText, WholeNumberText, filled, options
from ..labels import default_unit


class CustomerForm(FlaskForm):
    """A customer's details and defaults."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    abbreviation = StringField(_l("Abbreviation (for order numbers)"), validators=[
        DataRequired(), Regexp(r"^[A-Z0-9]{2,8}$", message=_l("2 to 8 capital letters or digits, e.g. ACME."))],
        filters=[lambda v: v.strip().upper() if v else v])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=200)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    locale = SelectField(_l("Language"), choices=options(("zh", "中文"), ("en", "English")))
    currency = StringField(_l("Currency"), default="CNY", validators=[
        DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("A three-letter code, e.g. CNY."))],
        filters=[lambda v: v.strip().upper() if v else v])
    prepayment_pct = DecimalText(_l("Default prepayment %"), default=Decimal("30"),
                                 minimum=0, maximum=100, validators=[filled])
    credit_days = WholeNumberText(_l("Default credit days"), default=30,
                               validators=[NumberRange(min=0, max=365)])
    quality_standard = TextAreaField(_l("Quality standard"), validators=[Optional(), Length(max=2000)])


class ProductForm(FlaskForm):
    """A product and its on-hand stock."""

    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), default=default_unit, validators=[DataRequired(), Length(max=20)])
    list_price = DecimalText(_l("List price (without tax)"), minimum=0, default=Decimal("0"),
                             validators=[filled])
    on_hand = DecimalText(_l("On-hand stock"), places=3, minimum=0, default=Decimal("0"),
                          validators=[filled])
    barcode = StringField(_l("Maker's barcode (EAN-13, Code 128)"), validators=[Optional(), Length(max=60)],
                          filters=[lambda value: (value or "").strip() or None])
