"""The cost sheet form: finance's actual cost and the cause of the variance per category."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import DecimalText

CATEGORY_LABELS = {
    "material": _l("Direct material"), "labour": _l("Direct labour"),
    "overhead": _l("Manufacturing overhead"), "logistics": _l("Logistics"), "aftersales": _l("After-sales"),
}


# Cause rows a line offers: enough for the several causes one variance usually has.
CAUSE_ROWS = 3


def _cause_id(value):
    """The chosen cause's id, or None for the empty choice (a tampered value is refused by choices)."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class CauseRowForm(Form):
    """One cause of a line's variance: which code, how much of the variance (blank: what is left), a note."""

    cause = SelectField(_l("Cause"), coerce=_cause_id, validate_choice=False)
    amount = DecimalText(_l("Amount it explains"), minimum=0)
    note = StringField(_l("Note"), validators=[Length(max=500)], filters=[lambda v: (v or "").strip()])

    def validate_cause(self, field):
        """An amount or note without a cause is a row half filled: say so rather than drop it."""
        if field.data is None and (self.amount.data is not None or self.note.data):
            raise ValidationError(_l("Choose the cause this amount or note belongs to."))
        if field.data is not None and field.data not in {c for c, _label in field.choices if c is not None}:
            raise ValidationError(_l("Choose a cause from the list."))


class CostSheetForm(FlaskForm):
    """Per category: a typed actual (blank: what the records say, where the app knows it), a note on
    the variance, and its cause codes; the page shows each under its category (CATEGORY_LABELS)."""

    line_errors: dict | None = None  # what the service refused, per category (views.save)

    actual_material = DecimalText(_l("Actual cost"), minimum=0)
    cause_material = TextAreaField(_l("Note on the variance"), validators=[Length(max=2000)])
    causes_material = FieldList(FormField(CauseRowForm), min_entries=CAUSE_ROWS, max_entries=10)
    actual_labour = DecimalText(_l("Actual cost"), minimum=0)
    cause_labour = TextAreaField(_l("Note on the variance"), validators=[Length(max=2000)])
    causes_labour = FieldList(FormField(CauseRowForm), min_entries=CAUSE_ROWS, max_entries=10)
    actual_overhead = DecimalText(_l("Actual cost"), minimum=0)
    cause_overhead = TextAreaField(_l("Note on the variance"), validators=[Length(max=2000)])
    causes_overhead = FieldList(FormField(CauseRowForm), min_entries=CAUSE_ROWS, max_entries=10)
    actual_logistics = DecimalText(_l("Actual cost"), minimum=0)
    cause_logistics = TextAreaField(_l("Note on the variance"), validators=[Length(max=2000)])
    causes_logistics = FieldList(FormField(CauseRowForm), min_entries=CAUSE_ROWS, max_entries=10)
    actual_aftersales = DecimalText(_l("Actual cost"), minimum=0)
    cause_aftersales = TextAreaField(_l("Note on the variance"), validators=[Length(max=2000)])
    causes_aftersales = FieldList(FormField(CauseRowForm), min_entries=CAUSE_ROWS, max_entries=10)

    def offer_causes(self, causes) -> None:
        """Fill every cause row's choices: the empty choice, then the firm's active causes."""
        choices = [(None, "—")] + [(c.id, c.label) for c in causes]
        for category in CATEGORY_LABELS:
            for row in self[f"causes_{category}"]:
                row.form.cause.choices = choices


class CloseOverrideForm(FlaskForm):
    """The manager closes an order with a return case, a ticket or money still open: why."""

    reason = TextAreaField(_l("Why close with this still open"),
                           validators=[DataRequired(message=_l("Give the reason for closing anyway.")),
                                       Length(max=2000)])
