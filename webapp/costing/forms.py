"""The cost sheet form: finance's actual cost and the cause of the variance per category."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import DecimalText, LineTable, MultiCheckbox, options

CATEGORY_LABELS = {
    "material": _l("Direct material"), "labour": _l("Direct labour"),
    "overhead": _l("Manufacturing overhead"), "logistics": _l("Logistics"), "aftersales": _l("After-sales"),
}


# Cause rows a posted line may carry (the page shows a line's causes and one empty row).
CAUSE_ROWS = 1


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


# The roles the firm may let see cost data besides finance and the manager (costing.COST_ROLE_CHOICES).
COST_ROLE_LABELS = {"operations": _l("Operations"), "sales": _l("Sales"), "production": _l("Production"),
                    "purchasing": _l("Purchasing"), "admin": _l("Admin")}


class OverheadRuleForm(Form):
    """One basis of the overhead rule: its rate (blank: not used) and its share."""

    rate = DecimalText(_l("Rate"), places=4, minimum=0)
    share = DecimalText(_l("Share %"), minimum=0, maximum=100)

    def validate_share(self, field):
        """A rate needs its share and a share its rate."""
        if (self.rate.data is None) != (field.data is None):
            raise ValidationError(_l("Give both the rate and its share, or neither."))


class CostSettingsForm(FlaskForm):
    """Who sees costs, and how manufacturing overhead is allocated (a row per basis)."""

    cost_roles = MultiCheckbox(_l("Besides finance and the manager, who sees cost sheets and cost figures"),
                               choices=options(*COST_ROLE_LABELS.items()))
    machine_hour = FormField(OverheadRuleForm, _l("Per machine hour (¥ an hour)"))
    labour_hour = FormField(OverheadRuleForm, _l("Per labour hour (¥ an hour)"))
    direct_cost = FormField(OverheadRuleForm, _l("Percentage of direct material and labour (%)"))


class CauseForm(Form):
    """One cause code as the firm names and offers it."""

    name = StringField(_l("Name"), validators=[Length(max=100)], filters=[lambda v: (v or "").strip()])
    active = BooleanField(_l("Offered"))


class CausesForm(FlaskForm):
    """The firm's cause codes: rename or hide each (a built-in one left blank keeps its own name),
    and add one."""

    causes = LineTable(FormField(CauseForm))
    new_name = StringField(_l("New cause"), validators=[Length(max=100)], filters=[lambda v: (v or "").strip()])
