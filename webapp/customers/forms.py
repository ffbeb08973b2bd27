"""Customer and product forms."""
import unicodedata
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, ValidationError, Length, NumberRange, Optional, Regexp

from ..forms import DecimalText, EmailAddress, WholeNumberText, filled, options
from ..labels import default_unit


def _code(value):
    """A code as typed on any keyboard: full-width letters and digits folded (NFKC), spaces and
    hyphens people group it with dropped, letters in capitals ("9144 0300-ma5f..." → "91440300MA5F...")."""
    if not value:
        return value
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch not in " -\u3000").upper()


def _trimmed(value):
    """Text without surrounding spaces (full-width ones folded first)."""
    return unicodedata.normalize("NFKC", value).strip() if value else value


class CustomerForm(FlaskForm):
    """A customer's details and defaults."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    abbreviation = StringField(_l("Abbreviation (for order numbers)"), validators=[
        DataRequired(), Regexp(r"^[A-Z0-9]{2,8}$", message=_l("2 to 8 capital letters or digits, e.g. ACME."))],
        filters=[lambda v: v.strip().upper() if v else v])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = TelField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), EmailAddress(max=200)])
    # Not checked beyond its length: besides today's IDs (6-20 letters, digits, _ and -), people give
    # their phone number, an old QQ number or a name to search for.
    contact_wechat = StringField(_l("Contact's WeChat ID"), validators=[Optional(), Length(max=60)],
                                 filters=[_trimmed])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    locale = SelectField(_l("Language"), choices=options(("zh", "中文"), ("en", "English")))
    # The sales rep who owns the customer (with "sales reps see only their own customers" on, only
    # they of the reps see it). Offered to those who see every customer; the choices are set by the view.
    owner_id = SelectField(_l("Sales rep"), coerce=int, validate_choice=False)

    def validate_owner_id(self, field):
        """A posted rep must be one offered (not posted at all: the owner stays as it was)."""
        if field.raw_data and field.data not in {choice[0] for choice in field.iter_choices()}:
            raise ValidationError(_l("Choose a sales rep from the list."))
    currency = StringField(_l("Currency"), default="CNY", validators=[
        DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("A three-letter code, e.g. CNY."))],
        filters=[lambda v: v.strip().upper() if v else v])
    prepayment_pct = DecimalText(_l("Default prepayment %"), default=Decimal("30"),
                                 minimum=0, maximum=100, validators=[filled])
    credit_days = WholeNumberText(_l("Default credit days"), default=30,
                               validators=[NumberRange(min=0, max=365)])
    # Net N days from the invoice, or 月结 N 天 (from the end of the invoice's month): receivables' due dates.
    credit_basis = SelectField(_l("Credit days count"), choices=options(
        ("net", _l("Net: days from the invoice")), ("month_end", _l("月结: days from the month's end"))),
        validate_choice=False, filters=[lambda v: v if v in ("net", "month_end") else "net"])
    quality_standard = TextAreaField(_l("Quality standard"), validators=[Optional(), Length(max=2000)])
    # Invoicing (开票信息). The unified social credit code has 18 characters; older tax registration
    # numbers had 15 to 20, so the check is lenient: 15-20 capital letters or digits.
    tax_id = StringField(_l("Tax ID (unified social credit code)"), validators=[
        Optional(), Regexp(r"^[A-Z0-9]{15,20}$", message=_l(
            "15 to 20 letters or digits, usually 18, e.g. 91440300MA5FXXXX1X."))], filters=[_code],
        render_kw={"placeholder": "91440300MA5FXXXX1X", "autocapitalize": "characters", "autocomplete": "off",
                   "spellcheck": "false"})
    invoice_title = StringField(_l("Invoice title"), validators=[Optional(), Length(max=200)], filters=[_trimmed])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=200)], filters=[_trimmed])
    bank_account = StringField(_l("Bank account"), validators=[
        Optional(), Length(max=40), Regexp(r"^[A-Za-z0-9 -]+$", message=_l(
            "Digits (and letters for a foreign account) only."))], filters=[_trimmed])


class ProductForm(FlaskForm):
    """A product, and the stock it has when it is created (later only the stock ledger moves it)."""

    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), default=default_unit, validators=[DataRequired(), Length(max=20)])
    list_price = DecimalText(_l("List price (without tax)"), minimum=0, default=Decimal("0"),
                             validators=[filled])
    on_hand = DecimalText(_l("Opening stock"), places=3, minimum=0, default=Decimal("0"),
                          validators=[filled])
    barcode = StringField(_l("Maker's barcode (EAN-13, Code 128)"), validators=[Optional(), Length(max=60)],
                          filters=[lambda value: (value or "").strip() or None])
