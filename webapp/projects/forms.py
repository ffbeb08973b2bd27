"""Project forms: a new project with its deliverables, a progress report, a rework handed over, and
the customer's signed acceptance."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import DecimalText, WholeNumberText

ROWS = 5  # deliverable rows on the new-project form (blank ones are left out)


class DeliverableRow(Form):
    """One deliverable on the new-project form: title, due date, price, milestones (one per line)."""

    title = StringField(_l("Deliverable"), validators=[Optional(), Length(max=200)],
                        filters=[lambda value: (value or "").strip()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    price = DecimalText(_l("Price without tax"), minimum=0)
    milestones = TextAreaField(_l("Milestones (one per line)"), validators=[Optional(), Length(max=2000)])


class ProjectForm(FlaskForm):
    """A new service project: customer, end date, the customer's reference and the deliverables."""

    customer_id = SelectField(_l("Customer"), coerce=int, validators=[DataRequired(message=_l("Choose a customer."))])
    delivery_date = DateField(_l("Project end date"), validators=[DataRequired()])
    customer_po = StringField(_l("Customer PO number"), validators=[Optional(), Length(max=60)])
    notes = TextAreaField(_l("Scope and notes"), validators=[Optional(), Length(max=4000)])
    rows = FieldList(FormField(DeliverableRow), min_entries=ROWS, max_entries=ROWS)


class ProgressForm(FlaskForm):
    """Staff report a deliverable's progress: percent, note, photos or scans, and the milestone."""

    percent = WholeNumberText(_l("Progress (%)"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    milestone_id = SelectField(_l("Milestone"), coerce=int, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos or scans"))
    documents = MultipleFileField(_l("Documents handed over (PDF, Office files)"))


class HandOverForm(FlaskForm):
    """The rework is done: what was changed."""

    note = TextAreaField(_l("What was reworked"), validators=[DataRequired(), Length(max=2000)])


class AcceptanceForm(FlaskForm):
    """The customer's signature over their decisions (decision-<id> and comment-<id> are read in the view)."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    strokes = HiddenField()
    consent = BooleanField(validators=[DataRequired(message=_l("Tick the box to agree."))])
