"""The cost sheet form: finance's actual cost and the cause of the variance per category."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import DecimalText

CATEGORY_LABELS = {
    "material": _l("Direct material"), "labour": _l("Direct labour"),
    "overhead": _l("Manufacturing overhead"), "logistics": _l("Logistics"), "aftersales": _l("After-sales"),
}


class CostSheetForm(FlaskForm):
    """Actual cost per category (blank while not known yet) and the cause of each variance; the
    page shows each pair under its category (CATEGORY_LABELS)."""

    actual_material = DecimalText(_l("Actual cost"), minimum=0)
    cause_material = TextAreaField(_l("Cause of the variance"), validators=[Length(max=2000)])
    actual_labour = DecimalText(_l("Actual cost"), minimum=0)
    cause_labour = TextAreaField(_l("Cause of the variance"), validators=[Length(max=2000)])
    actual_overhead = DecimalText(_l("Actual cost"), minimum=0)
    cause_overhead = TextAreaField(_l("Cause of the variance"), validators=[Length(max=2000)])
    actual_logistics = DecimalText(_l("Actual cost"), minimum=0)
    cause_logistics = TextAreaField(_l("Cause of the variance"), validators=[Length(max=2000)])
    actual_aftersales = DecimalText(_l("Actual cost"), minimum=0)
    cause_aftersales = TextAreaField(_l("Cause of the variance"), validators=[Length(max=2000)])


class CloseOverrideForm(FlaskForm):
    """The manager closes an order with a return case, a ticket or money still open: why."""

    reason = TextAreaField(_l("Why close with this still open"),
                           validators=[DataRequired(message=_l("Give the reason for closing anyway.")),
                                       Length(max=2000)])
