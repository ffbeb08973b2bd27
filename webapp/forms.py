"""Form pieces shared by every domain."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError


def parse_decimal(raw: str, places: int = 2, minimum=None, maximum=None) -> Decimal:
    """Read a number typed on a phone ("1,234.5", "1234,5", " 12 "); raise ValueError with a
    translated message for anything else (text, NaN, infinity, too many decimals, out of range)."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_l("Enter a number, for example 12.5.")) from None
    if not value.is_finite():
        raise ValueError(_l("Enter a number, for example 12.5."))
    # range before rounding: quantize() itself fails on absurdly large numbers
    if minimum is not None and value < minimum:
        raise ValueError(_l("Must be at least %(min)s.", min=minimum))
    if maximum is not None and value > maximum:
        raise ValueError(_l("Must be at most %(max)s.", max=maximum))
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(_l("Use at most %(places)s decimals.", places=places))
    return value


class DecimalText(StringField):
    """A decimal typed as text: accepts "1,234.5" and "1234,5"; keeps what was typed on errors."""

    def __init__(self, label=None, validators=None, places: int = 2, minimum=None, maximum=None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        if maximum is None:  # far beyond any real order, well inside a 64-bit column
            maximum = Decimal("1000000000") if places == 3 else Decimal("10000000000000")
        self.places, self.minimum, self.maximum = places, minimum, maximum

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if self.raw:
            self.data = parse_decimal(self.raw, self.places, self.minimum, self.maximum)

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        if self.data is None:
            return ""
        if self.places == 3:  # quantities: 12.5 rather than 12.500 (and never 1E+2)
            return format(Decimal(self.data).normalize(), "f")
        return str(self.data)


def filled(form, field):
    """Something must be typed (unlike DataRequired, a typed 0 counts, and a parse error stays)."""
    from wtforms.validators import StopValidation
    if not (getattr(field, "raw", None) or "").strip():
        field.errors[:] = []
        raise StopValidation(_l("This field is required."))


def positive(form, field):
    """A value above zero."""
    if field.data is not None and field.data <= 0:
        raise ValidationError(_l("Must be above zero."))


def options(*pairs) -> list:
    """Select choices from (value, label) pairs (labels may be lazy translations)."""
    from wtforms import SelectChoice
    return [SelectChoice(value, label) for value, label in pairs]
