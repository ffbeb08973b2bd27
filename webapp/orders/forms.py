"""Order forms: terms with lines, reviews, approvals, amendments, payments, signatures."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, HiddenField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..forms import DecimalText, WholeNumberText, filled, options, positive
from ..labels import default_unit

METHOD_CHOICES = [("delivery", _l("Delivery")), ("pickup", _l("Pickup"))]
VERDICT_LABELS = {"agree": _l("Agree"), "concern": _l("Concern")}
CREDIT_BASIS_LABELS = {"net": _l("Net: days from the invoice"), "month_end": _l("月结: days from the month's end")}
PAYMENT_KIND_LABELS = {"deposit": _l("Deposit / prepayment"), "receipt": _l("Later receipt")}


class LineForm(Form):
    """One order line; a wholly empty line is ignored."""

    customer_part_no = StringField(_l("Customer part no."), validators=[Optional(), Length(max=60)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=60)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    drawing_rev = StringField(_l("Drawing rev."), validators=[Optional(), Length(max=20)])
    quantity = DecimalText(_l("Quantity"), places=3, validators=[positive])
    unit = StringField(_l("Unit"), default=default_unit, validators=[Optional(), Length(max=20)])
    unit_price = DecimalText(_l("Unit price excl. tax"), places=2, minimum=0)
    unit_price_incl = DecimalText(_l("Unit price incl. tax"), places=2, minimum=0)

    def is_blank(self) -> bool:
        """Nothing but the default unit was entered."""
        return not any((self.customer_part_no.data, self.model.data, self.description.data,
                        self.drawing_rev.data, getattr(self.quantity, "raw", ""),
                        getattr(self.unit_price, "raw", ""), getattr(self.unit_price_incl, "raw", "")))

    def validate(self, extra_validators=None):
        """A line that is not blank needs a model, a quantity, a unit and a price."""
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        if not self.model.data:
            self.model.errors = list(self.model.errors) + [_l("Enter the model.")]
            ok = False
        if self.quantity.data is None and not self.quantity.errors:
            self.quantity.errors = list(self.quantity.errors) + [_l("Enter the quantity.")]
            ok = False
        if not self.unit.data:
            self.unit.errors = list(self.unit.errors) + [_l("Enter the unit.")]
            ok = False
        if (self.unit_price.data is None and self.unit_price_incl.data is None
                and not self.unit_price.errors and not self.unit_price_incl.errors):
            self.unit_price.errors = list(self.unit_price.errors) + [
                _l("Enter the unit price with or without tax.")]
            ok = False
        return ok


class OrderForm(FlaskForm):
    """The order's terms."""

    customer_id = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    customer_po = StringField(_l("Customer PO number"), validators=[Optional(), Length(max=60)])
    currency = StringField(_l("Currency"), default="CNY", validators=[
        DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("A three-letter code, e.g. CNY."))],
        filters=[lambda v: v.strip().upper() if v else v])
    tax_rate = DecimalText(_l("Tax rate %"), minimum=0, maximum=100, validators=[filled])
    prepayment_pct = DecimalText(_l("Prepayment %"), minimum=0, maximum=100, default=Decimal("0"),
                                 validators=[filled])
    credit_days = WholeNumberText(_l("Credit days"), default=0, validators=[
        Optional(), NumberRange(min=0, max=365)])
    # Not posted (an older page, the API): the order keeps its own (a new one: the customer's).
    credit_basis = SelectField(_l("Credit days count"), choices=options(*CREDIT_BASIS_LABELS.items()),
                               validate_choice=False, filters=[lambda v: v if v in CREDIT_BASIS_LABELS else None])
    # Units of the firm's currency per unit of the order's, fixed at order time (balances, the cost
    # sheet and the KPIs count in the firm's currency); 1 for an order in the firm's currency.
    exchange_rate = DecimalText(_l("Exchange rate (firm's currency per unit)"), places=6, minimum=0)
    delivery_date = DateField(_l("Delivery date"), validators=[Optional()])
    delivery_method = SelectField(_l("Delivery method"), choices=options(*METHOD_CHOICES))
    delivery_place = TextAreaField(_l("Delivery place"), validators=[Optional(), Length(max=1000)])
    breach_liability = TextAreaField(_l("Breach liability"), validators=[Optional(), Length(max=2000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=100)

    def validate_exchange_rate(self, field):
        """Required and above zero for an order in another currency than the firm's; 1 otherwise."""
        from ..firm import get_settings
        firm = get_settings().currency
        if not self.currency.data or self.currency.data == firm:
            field.data = Decimal("1")
            return
        if field.data is None or field.data <= 0:
            raise ValidationError(_l("Enter the exchange rate: how many %(currency)s one %(order)s is worth.",
                                     currency=firm, order=self.currency.data))

    def validate_lines(self, field):
        """At least one line; where both unit prices are given they must agree with the tax rate."""
        if all(entry.form.is_blank() for entry in field.entries):
            raise ValidationError(_l("Add at least one order line."))
        rate = self.tax_rate.data
        if rate is None:
            return
        for entry in field.entries:
            line = entry.form
            excl, incl = line.unit_price.data, line.unit_price_incl.data
            if excl is not None and incl is not None and abs(excl * (1 + rate / 100) - incl) > Decimal("0.01"):
                line.unit_price_incl.errors = list(line.unit_price_incl.errors) + [_l(
                    "The prices with and without tax do not agree at this tax rate; empty one of them.")]
                raise ValidationError(_l("Check the unit prices."))


class AmendmentForm(OrderForm):
    """An amendment: the new terms and why."""

    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(), Length(max=2000)])


class ReviewForm(FlaskForm):
    """A department's feasibility verdict."""

    verdict = SelectField(_l("Verdict"), choices=options(*VERDICT_LABELS.items()))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])

    def validate_note(self, field):
        """A concern must say what is wrong."""
        if self.verdict.data == "concern" and not (field.data or "").strip():
            raise ValidationError(_l("Say what the concern is."))


class BudgetForm(FlaskForm):
    """Finance's cost budget per category of the cost sheet."""

    budget_material = DecimalText(_l("Direct material"), minimum=0, validators=[filled])
    budget_labour = DecimalText(_l("Direct labour"), minimum=0, validators=[filled])
    budget_overhead = DecimalText(_l("Manufacturing overhead"), minimum=0, validators=[filled])
    budget_logistics = DecimalText(_l("Logistics"), minimum=0, validators=[filled])
    budget_aftersales = DecimalText(_l("After-sales"), minimum=0, validators=[filled])


class DecisionForm(FlaskForm):
    """Approve or reject, with a note (required to reject)."""

    role = HiddenField()
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ReasonForm(FlaskForm):
    """Any action that needs a reason (override, cancel, hold)."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    department = HiddenField()


class PaymentForm(FlaskForm):
    """A payment received."""

    kind = SelectField(_l("Kind"), choices=options(*PAYMENT_KIND_LABELS.items()))
    amount = DecimalText(_l("Amount"), validators=[filled, positive])
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    reference = StringField(_l("Reference (bank slip, voucher)"), validators=[Optional(), Length(max=100)])


class SignatureForm(FlaskForm):
    """The customer's countersignature: name, consent and drawn strokes."""

    name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("Position"), validators=[Optional(), Length(max=100)])
    # In the page's order (the error summary lists them so): the signature box, then the agreement.
    strokes = HiddenField(validators=[DataRequired(message=_l("Sign in the box with your finger."))])
    consent = BooleanField(validators=[DataRequired(message=_l("Tick the box to agree."))])
