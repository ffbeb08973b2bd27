"""Receivables forms: an invoice recorded, a payment matched, an invoice voided, a shipment released."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import DecimalText, filled, options, positive

KIND_LABELS = {"vat_special": _l("VAT special invoice (专票)"), "ordinary": _l("Ordinary invoice (普票)")}
BASIS_LABELS = {"net": _l("Net: days from the invoice"), "month_end": _l("月结: days from the month's end")}


class InvoiceForm(FlaskForm):
    """An invoice the firm's tax system issued: its number, date, amount and what it is for."""

    kind = SelectField(_l("Kind"), choices=options(*KIND_LABELS.items()))
    number = StringField(_l("Invoice number"), validators=[DataRequired(), Length(max=40)],
                         filters=[lambda v: v.strip() if v else v])
    issued_on = DateField(_l("Issued on"), validators=[InputRequired()])
    amount = DecimalText(_l("Amount incl. tax"), validators=[filled, positive])
    tax_rate = DecimalText(_l("Tax rate %"), minimum=0, maximum=100, validators=[Optional()])
    tax_amount = DecimalText(_l("Tax amount (empty: from the rate)"), minimum=0, validators=[Optional()])
    # "s<id>" for a shipment of the order, "m" for a milestone named below.
    against = SelectField(_l("For"), validate_choice=False)
    milestone = StringField(_l("Milestone (deposit, acceptance…)"), validators=[Optional(), Length(max=100)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])

    def offer(self, shipments) -> None:
        """The order's shipments to choose from, then a milestone."""
        from flask_babel import gettext as _
        from ..templating import date_local
        choices = [(f"s{s.id}", _("Shipment %(number)s", number=s.number or s.id)
                    + (f" · {date_local(s.dispatched_at)}" if s.dispatched_at else "")) for s in shipments]
        self.against.choices = options(*choices, ("m", _l("A milestone")))

    def validate_against(self, field):
        """A shipment offered, or a milestone with its name."""
        from wtforms.validators import ValidationError
        offered = {choice.value for choice in field.choices}
        if field.data not in offered:
            raise ValidationError(_l("Choose what the invoice is for."))
        if field.data == "m" and not (self.milestone.data or "").strip():
            self.milestone.errors = list(self.milestone.errors) + [_l("Name the milestone.")]
            raise ValidationError(_l("Name the milestone."))

    def validate_issued_on(self, field):
        """A date the tax system can have printed: not in the future, not more than ten years back
        (a far date would also make a due date past the calendar's end)."""
        from datetime import timedelta
        from wtforms.validators import ValidationError
        from ..i18n import firm_today
        today = firm_today()
        if field.data is not None and not (today - timedelta(days=3653) <= field.data <= today):
            raise ValidationError(_l("An invoice is dated today or earlier, within the last ten years."))

    @property
    def shipment_id(self) -> int | None:
        """The chosen shipment's id, or None for a milestone."""
        return int(self.against.data[1:]) if (self.against.data or "").startswith("s") else None


class MatchForm(FlaskForm):
    """Part of a payment applied to an invoice."""

    payment_id = SelectField(_l("Payment"), validate_choice=False)
    invoice_id = SelectField(_l("Invoice"), validate_choice=False)
    amount = DecimalText(_l("Amount"), validators=[filled, positive])


class ReasonForm(FlaskForm):
    """Voiding an invoice or releasing a shipment: the reason."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
