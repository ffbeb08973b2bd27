"""Form pieces shared by every domain."""
import unicodedata
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, get_group_symbol
from babel.numbers import parse_decimal as babel_parse_decimal
from flask import current_app, g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import FieldList, SelectMultipleField, StringField
from wtforms.utils import unset_value
from wtforms.widgets import CheckboxInput, ListWidget, TextInput, html_params
from wtforms.validators import Email, Length, StopValidation, ValidationError

# A Chinese IME types the ideographic full stop and comma; NFKC leaves them alone (it maps the
# full-width ，．０-９ itself), so they are mapped here to what they mean in a number.
IME_MARKS = str.maketrans({"\u3002": ".", "\uff61": ".", "\u3001": ",", "\uff64": ","})


class NumberError(ValueError):
    """A typed number that cannot be read; kind says why ("format", "separator", "range", "places")."""

    def __init__(self, message, kind: str):
        super().__init__(message)
        self.kind = kind


def number_locale() -> Locale:
    """The locale numbers are read and pre-filled in: the request's (English outside a request)."""
    from flask import has_request_context
    from flask_babel import get_locale
    locale = get_locale() if has_request_context() else None
    return locale or Locale.parse("en")


def parse_decimal(raw: str, places: int = 2, minimum=None, maximum=None, locale=None) -> Decimal:
    """Read a number typed on a phone in the user's locale ("2,000", "12,345.5", "２，０００", " 12 "):
    a comma only ever groups thousands (zh-CN and en), so "1234,5" is refused with a hint rather than
    read as 1234.5 or 12345. Raise NumberError with a translated message for anything else (text,
    NaN, infinity, too many decimals, out of range)."""
    locale = locale or number_locale()
    text = unicodedata.normalize("NFKC", raw).translate(IME_MARKS).strip()
    whole = places == 0
    not_a_number = (_l("Enter a whole number, for example 30.") if whole
                    else _l("Enter a number, for example 12.5."))
    # nobody types a 100-character number; refusing it early keeps Babel's strict check cheap
    if not text or len(text) > 100 or any(ch.isspace() for ch in text):
        raise NumberError(not_a_number, "format")
    try:
        value = babel_parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        # Babel's own message is English and names its suggestion; ours says what a comma means.
        group = get_group_symbol(locale)
        try:
            misplaced_group = group in text and Decimal(text.replace(group, "")).is_finite()
        except InvalidOperation:
            misplaced_group = False
        if misplaced_group:
            raise NumberError(_l("A comma only separates thousands; write decimals with a point, "
                                 "for example 1,234.5."), "separator") from None
        raise NumberError(not_a_number, "format") from None
    if not value.is_finite():
        raise NumberError(not_a_number, "format")
    # range before rounding: quantize() itself fails on absurdly large numbers
    if minimum is not None and value < minimum:
        raise NumberError(_l("Must be at least %(min)s.", min=minimum), "range")
    if maximum is not None and value > maximum:
        raise NumberError(_l("Must be at most %(max)s.", max=maximum), "range")
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than the context holds: far out of any range
        raise NumberError(not_a_number, "range") from None
    if not exact:
        if whole:
            raise NumberError(not_a_number, "places")
        raise NumberError(_l("Use at most %(places)s decimals.", places=places), "places")
    return value


def input_number(value, places: int = 3, locale=None) -> str:
    """A number as an input's value, the way parse_decimal reads it back: no grouping ("2000", never
    "2,000"), the locale's decimal sign; quantities without trailing zeros (12.5, 2000), money
    with its cents (1200.00)."""
    if value is None or value == "":
        return ""
    if places == 0:
        pattern = "0"
    elif places in (3, 6):  # quantities: no trailing zeros
        pattern = "0." + "#" * places
    else:
        pattern = "0." + "0" * places
    return format_decimal(Decimal(value), format=pattern, locale=locale or number_locale())


class DecimalText(StringField):
    """A decimal typed as text in the user's locale ("1,234.5", "２，０００"); keeps what was typed on
    errors and pre-fills without grouping."""

    def __init__(self, label=None, validators=None, places: int = 2, minimum=None, maximum=None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        if maximum is None:  # far beyond any real order, well inside a 64-bit column
            # Money (two places, fen in 64 bits) may be large; quantities, and the millionths of a
            # Fine column (unit costs, quantities per unit, limits: places above 3), stop at 10⁹.
            maximum = Decimal("10000000000000") if places in (1, 2) else Decimal("1000000000")
        self.places, self.minimum, self.maximum = places, minimum, maximum

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if self.raw:
            self.data = parse_decimal(self.raw, self.places, self.minimum, self.maximum)

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        return input_number(self.data, self.places)


class WholeNumberText(DecimalText):
    """A whole count typed as text (days, years): read like DecimalText, gives an int."""

    def __init__(self, label=None, validators=None, minimum=None, maximum=None, **kwargs):
        super().__init__(label, validators, places=0, minimum=minimum, maximum=maximum, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = int(self.data)


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


class EmailAddress:
    """An e-mail address of at most max characters. The length is checked first and stops the chain:
    the syntax check (email_validator) takes a quarter of a second on a megabyte of text, so an
    oversize value must never reach it (one request could hold a worker for seconds)."""

    def __init__(self, max: int = 200):
        self.length = Length(max=max)
        self.email = Email()

    def __call__(self, form, field):
        try:
            self.length(form, field)
        except ValidationError as error:
            raise StopValidation(str(error)) from error
        self.email(form, field)


def ids_of_its_own(form, suffix) -> "FlaskForm":
    """form with every field's id (and its label's for) ending in -suffix: the same form drawn once per
    card or row of a page (a cause per work order, a resolution per anomaly) would give several
    elements one id, and each label would point at the first card's field. The names stay as posted."""
    for item in form:
        item.id = item.label.field_id = f"{item.id}-{suffix}"
    return form


def options(*pairs) -> list:
    """Select choices from (value, label) pairs (labels may be lazy translations)."""
    from wtforms import SelectChoice
    return [SelectChoice(value, label) for value, label in pairs]


class OfflineForm(FlaskForm):
    """A form of an offline-capable view (sync/replay.py: offline_capable). A replay from the phone's
    outbox carries no CSRF token: its credential is an Authorization header, which a page elsewhere
    cannot send (no CORS is granted), so the form leaves its CSRF field out for a replay. A plain post
    is checked by CSRFProtect as every other form."""

    class Meta(FlaskForm.Meta):
        @property
        def csrf(self):
            """CSRF for a plain post, none for an outbox replay (set by offline_capable)."""
            return not g.get("replay") and current_app.config.get("WTF_CSRF_ENABLED", True)


class LineTable(FieldList):
    """A table of lines as a FieldList whose entries are named by each row's key, not by position:
    `line-12-qty` for shipment line 12, `qty-5` for order line 5. Names the phones' queued entries
    already carry (tests/fixtures/outbox), and a post that skips or reorders rows cannot shift one
    line's values onto another. Filled with `rows`: (key, data) pairs, one entry per row, whatever
    was posted."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        """One entry per (key, data) row, each reading its own names from formdata."""
        self.entries = []
        rows = [] if data is unset_value or data is None else list(data)
        self.object_data = rows
        for key, row_data in rows:
            self._add_entry(formdata, row_data if row_data is not None else unset_value, index=key)

    def keyed(self) -> list[tuple]:
        """(key, entry) pairs in the rows' order."""
        return [(key, entry) for (key, _data), entry in zip(self.object_data, self.entries)]


class InputInPageOrder(TextInput):
    """A text input whose id, name and type come first, as in the hand-written tables it replaces
    (WTForms sorts the attributes by name)."""

    def __call__(self, field, **kwargs):
        """The input: id, name, type, inputmode, autocomplete and value first, the rest sorted."""
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("value", field._value())
        first = {"id": kwargs.pop("id"), "name": field.name, "type": "text"}
        for name in ("inputmode", "autocomplete", "value"):
            if name in kwargs:
                first[name] = kwargs.pop(name)
        kwargs.pop("name", None)
        kwargs.pop("type", None)
        params = [html_params(**{name: value}) for name, value in first.items()]
        if kwargs:
            params.append(html_params(**kwargs))
        return Markup("<input %s>" % " ".join(params))


class MultiCheckbox(SelectMultipleField):
    """Checkboxes for a multiple choice (big tap targets on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
