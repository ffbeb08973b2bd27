"""The API's shared schemas (marshmallow): what the OpenAPI document shows and what the code dumps and
loads are the same classes. Money is a decimal string in the order's currency, quantities a decimal
string in their unit, times ISO 8601 in UTC, dates YYYY-MM-DD."""
from decimal import Decimal

from flask_login import current_user
from flask_babel import gettext as _
from marshmallow import INCLUDE, Schema, ValidationError, fields, post_dump

from ..inputs import YEAR_MAX, YEAR_MIN

from ..permissions import can


class Problem(Schema):
    """RFC 9457 problem details: `type` is stable per kind of error; the words follow the user's language."""

    class Meta:
        unknown = INCLUDE  # problems may carry more members (RFC 9457 extensions)

    type = fields.String(required=True, metadata={"example": "/api/v1/problems/validation-error"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Messages per field (validation-error, bad-request)."})
    allowed_transitions = fields.List(fields.String(), metadata={
        "description": "What the object's state allows now (state-conflict)."})
    state = fields.String(metadata={"description": "The object's state now (state-conflict)."})
    retry_after = fields.Integer()


class DecimalString(fields.Decimal):
    """A decimal written as a JSON string ("1234.50"), exact both ways; it also reads a JSON number.
    The document calls it a string of format "decimal" (spec.py maps it). max_places refuses input
    with more decimal places than the column keeps ("0.0000001" of a thousandths quantity would be
    stored as 0), instead of rounding it away."""

    def __init__(self, *args, max_places: int | None = None, **kwargs):
        super().__init__(*args, as_string=True, **kwargs)
        self.max_places = max_places

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is not None and self.max_places is not None and number.as_tuple().exponent < -self.max_places:
            raise ValidationError(_("Use at most %(n)s decimal places.", n=self.max_places))
        return number


class QuantityString(DecimalString):
    """A quantity as its unit counts it: "2000", "2.5" (no trailing zeros of the stored thousandths)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f")


def Money(metadata=None, **kwargs):
    """A money amount as a decimal string (exact: no binary floating point)."""
    kwargs.setdefault("max_places", 2)
    return DecimalString(places=2, metadata={"example": "1234.50", **(metadata or {})}, **kwargs)


def Qty(metadata=None, **kwargs):
    """A quantity as a decimal string, in its unit."""
    kwargs.setdefault("max_places", 3)
    return QuantityString(metadata={"example": "2000", **(metadata or {})}, **kwargs)


def _sane_year(value) -> None:
    """Refuse a date or moment outside the years any record of the firm can have (2000–2100): year 1
    or 9999 overflows when turned to UTC, and is never meant."""
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValidationError(_("Give a date between %(first)s and %(last)s.", first=YEAR_MIN, last=YEAR_MAX))


def Moment(metadata=None, **kwargs):
    """A moment given to the API: ISO 8601 with its offset, in the years 2000–2100."""
    return fields.AwareDateTime(validate=_sane_year, metadata={"example": "2026-11-30T08:00:00+08:00",
                                                               **(metadata or {})}, **kwargs)


def Day(metadata=None, **kwargs):
    """A date (YYYY-MM-DD), in the years 2000–2100 when given to the API."""
    return fields.Date(validate=_sane_year, metadata=metadata or {}, **kwargs)


def Stamp(**kwargs):
    """A moment, ISO 8601 with its offset (UTC)."""
    return fields.AwareDateTime(format="iso", default_timezone=None, **kwargs)


class PricedSchema(Schema):
    """A schema whose price fields are null for a user who may not see prices (the pages' rule)."""

    PRICE_FIELDS: tuple[str, ...] = ()

    @post_dump(pass_original=True)
    def hide_prices(self, data, original, **_kwargs):
        """Null the prices unless the token's owner may see this order's prices."""
        order = getattr(original, "order", None) or original
        if self.PRICE_FIELDS and not can(current_user, "order.prices", order):
            for name in self.PRICE_FIELDS:
                if name in data:
                    data[name] = None
        return data


class CustomerOut(Schema):
    """A customer: who they are, how to reach them, their default terms."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    abbreviation = fields.String(required=True, metadata={"description": "Used in order numbers."})
    contact_name = fields.String()
    contact_phone = fields.String()
    contact_email = fields.String()
    address = fields.String()
    locale = fields.String()
    currency = fields.String()
    credit_days = fields.Integer()
    credit_basis = fields.String(metadata={"description": "net (days after invoice) or month_end (月结)."})
    owner_id = fields.Integer(allow_none=True, metadata={"description": "The sales rep who owns the customer."})
    created_at = Stamp()


class ProductOut(PricedSchema):
    """A stock item the firm sells: model, unit, list price (null without price rights), on hand."""

    PRICE_FIELDS = ("list_price",)

    id = fields.Integer(required=True)
    model = fields.String(required=True)
    name = fields.String()
    unit = fields.String()
    barcode = fields.String(allow_none=True)
    list_price = Money(allow_none=True)
    on_hand = Qty()


class OrderLineOut(PricedSchema):
    """One line of an order."""

    PRICE_FIELDS = ("unit_price", "unit_price_incl")

    id = fields.Integer(required=True)
    position = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    customer_part_no = fields.String()
    model = fields.String()
    description = fields.String()
    drawing_rev = fields.String()
    quantity = Qty()
    unit = fields.String()
    unit_price = Money(allow_none=True, metadata={"description": "Without tax."})
    unit_price_incl = Money(allow_none=True, metadata={"description": "With tax."})


class OrderOut(PricedSchema):
    """An order with its lines, state and terms (prices null without price rights)."""

    PRICE_FIELDS = ("total_excl", "total_tax", "total")

    id = fields.Integer(required=True)
    number = fields.String(allow_none=True, metadata={"description": "Given when the order is submitted."})
    kind = fields.String(metadata={"description": "manufacturing, retail or service."})
    status = fields.String(required=True, metadata={"description": "draft, in_review, pending_approval, "
                           "awaiting_countersign, effective, in_production, ready_to_ship, shipped, delivered, "
                           "closed, on_hold or cancelled."})
    customer_id = fields.Integer(required=True)
    requirement_id = fields.Integer(allow_none=True)
    customer_po = fields.String()
    currency = fields.String()
    exchange_rate = DecimalString()
    tax_rate = DecimalString()
    prepayment_pct = DecimalString()
    credit_days = fields.Integer()
    credit_basis = fields.String()
    delivery_date = Day(allow_none=True)
    revised_date = Day(allow_none=True, metadata={"description": "The promised date as last revised (ETA)."})
    delivery_place = fields.String()
    delivery_method = fields.String()
    total_excl = Money(allow_none=True)
    total_tax = Money(allow_none=True)
    total = Money(allow_none=True)
    version = fields.Integer(metadata={"description": "The terms' version (an amendment adds one)."})
    signed_version = fields.Integer(allow_none=True)
    sales_rep_id = fields.Integer()
    created_at = Stamp()
    updated_at = Stamp()
    effective_at = Stamp(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOut))


class OrderVersionOut(Schema):
    """One frozen version of an order's terms, with its SHA-256 (what a countersignature signed)."""

    version = fields.Integer(required=True)
    sha256 = fields.String()
    created_at = Stamp()
    terms = fields.Dict(metadata={"description": "The terms as frozen (lines, prices, dates)."})
