"""The review form (subject, date, attendees, findings), the improvement action form and the note
that goes with a status change."""
from datetime import date

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import options
from ..statemachine import N_

KIND_LABELS = {"order": N_("One order"), "period": N_("A month or quarter")}
PERIOD_LABELS = {"month": N_("Month"), "quarter": N_("Quarter")}
# How far back the period choice reaches.
MONTHS_BACK, QUARTERS_BACK = 18, 8


# Dates a review or an action may carry: a typed year 9999 would overflow the periods compared after it.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def plausible(form, field):
    """A date between FIRST_YEAR and LAST_YEAR."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Give a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))


def _strip(value):
    return (value or "").strip()


class MultiCheckbox(SelectMultipleField):
    """Checkboxes for a multiple choice (big tap targets on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def month_label(first: date) -> str:
    """A month as people say it ("2026年10月", "October 2026")."""
    return format_skeleton("yMMMM", first, locale=str(get_locale() or "zh"))


def period_label(period: str | None, first: date | None) -> str:
    """A review's month or quarter in the reader's language."""
    if first is None:
        return ""
    if period == "quarter":
        return _("Q%(quarter)s %(year)s", quarter=(first.month - 1) // 3 + 1, year=first.year)
    return month_label(first)


def period_choices(today: date) -> list:
    """The months and quarters a review may be about, the latest first ("month:2026-10-01")."""
    months, year, month = [], today.year, today.month
    for _i in range(MONTHS_BACK):
        first = date(year, month, 1)
        months.append((f"month:{first.isoformat()}", period_label("month", first)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    quarters, year, quarter = [], today.year, (today.month - 1) // 3 + 1
    for _i in range(QUARTERS_BACK):
        first = date(year, 3 * (quarter - 1) + 1, 1)
        quarters.append((f"quarter:{first.isoformat()}", period_label("quarter", first)))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return [("", "—"), *months, *quarters]


def parse_period(value: str | None) -> tuple[str | None, date | None]:
    """("month" or "quarter", a day in it) from a period choice; (None, None) for anything else."""
    kind, _sep, day = (value or "").partition(":")
    if kind not in PERIOD_LABELS:
        return None, None
    try:
        day = date.fromisoformat(day)
    except ValueError:
        return None, None
    return (kind, day) if FIRST_YEAR <= day.year <= LAST_YEAR else (None, None)


class ReviewForm(FlaskForm):
    """A review meeting: of an order or a period, when, who sat in it, what it found."""

    kind = RadioField(_l("The review is about"), choices=options(*[(k, _l(v)) for k, v in KIND_LABELS.items()]),
                      default="period", validators=[InputRequired(message=_l("Choose what the review is about."))])
    order_number = StringField(_l("Order number"), validators=[Length(max=40)], filters=[_strip])
    period = SelectField(_l("Month or quarter"), validate_choice=False)
    held_on = DateField(_l("Date held"), validators=[DataRequired(message=_l("Give the date the review was held.")), plausible])
    attendees = MultiCheckbox(_l("Attendees (参会人员)"), coerce=int, validate_choice=False)
    guests = TextAreaField(_l("Other attendees, one name per line"), validators=[Length(max=2000)])
    findings = TextAreaField(_l("Findings (发现的问题)"),
                             validators=[DataRequired(message=_l("Write down what the review found.")),
                                         Length(max=20000)], filters=[_strip])


class ActionForm(FlaskForm):
    """An improvement action: what, whose, by when, which causes it addresses."""

    title = StringField(_l("Action"), validators=[DataRequired(message=_l("Say what is to be done.")),
                                                  Length(max=200)], filters=[_strip])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)], filters=[_strip])
    owner_id = SelectField(_l("Owner (负责人)"), coerce=int, validate_choice=False,
                           validators=[DataRequired(message=_l("Choose who owns the action."))])
    due_date = DateField(_l("Due date (截止日期)"),
                         validators=[DataRequired(message=_l("Give the date the action is due.")), plausible])
    causes = MultiCheckbox(_l("Causes it addresses"), coerce=int, validate_choice=False)


class NoteForm(FlaskForm):
    """What was done (required to mark an action done), or why it changes."""

    note = TextAreaField(_l("Note"), validators=[Length(max=5000)], filters=[_strip])
