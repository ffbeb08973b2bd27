"""Forms of the floor: progress, anomaly, plan, split."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DecimalText, OfflineForm, filled, options, positive
from .models import ANOMALY_KINDS, QC_DISPOSITIONS

KIND_LABELS = {
    "material_shortage": _l("Material shortage"), "equipment_failure": _l("Equipment failure"),
    "quality": _l("Quality problem"), "labour": _l("Not enough people"), "other": _l("Other"),
}
SEVERITY_LABELS = {"minor": _l("No, work goes on"), "blocking": _l("Yes, work stops")}


class ProgressForm(OfflineForm):
    """Good and scrap pieces made, with a note and photos."""

    good = DecimalText(_l("Good pieces"), places=3, minimum=0, default=0)
    scrap = DecimalText(_l("Scrap pieces"), places=3, minimum=0, default=0)
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    photos = MultipleFileField(_l("Photos"))

    def validate_good(self, field):
        """Something must be reported."""
        if (field.data or 0) + (self.scrap.data or 0) <= 0 and not self.scrap.errors:
            raise ValidationError(_l("Enter good or scrap pieces."))


class AnomalyForm(OfflineForm):
    """Something is wrong: what, how bad, the plan, maybe a new date."""

    kind = SelectField(_l("What happened"), choices=options(*[(k, KIND_LABELS[k]) for k in ANOMALY_KINDS]))
    severity = SelectField(_l("Does it stop the work?"), choices=options(*SEVERITY_LABELS.items()))
    note = TextAreaField(_l("Describe it"), validators=[DataRequired(), Length(max=2000)])
    contingency = TextAreaField(_l("Contingency plan"), validators=[Length(max=2000)])
    new_eta = DateField(_l("New expected date (tells the customer)"), validators=[Optional()])
    eta_reason = TextAreaField(_l("Reason for the new date"), validators=[Length(max=1000)])
    photos = MultipleFileField(_l("Photos"))

    def validate_eta_reason(self, field):
        """A new date needs its reason: the customer is told."""
        if self.new_eta.data and not (field.data or "").strip():
            raise ValidationError(_l("Give the reason for the new date."))


class PlanForm(FlaskForm):
    """Owner and planned milestone dates of a work order."""

    owner_id = SelectField(_l("Owner"), coerce=int)
    planned_materials = DateField(_l("Materials purchased by"), validators=[Optional()])
    planned_start = DateField(_l("Production starts"), validators=[Optional()])
    planned_qc = DateField(_l("QC done by"), validators=[Optional()])


class SplitForm(FlaskForm):
    """Split part of the quantity into a new work order."""

    quantity = DecimalText(_l("Quantity to move to a new work order"), places=3, validators=[filled, positive])


class ResolveForm(FlaskForm):
    """How an anomaly was resolved."""

    resolution = StringField(_l("What was done"), validators=[DataRequired(), Length(max=1000)])


DISPOSITION_LABELS = {"rework": _l("Rework (make good again)"), "scrap": _l("Scrap")}


class QcFailForm(FlaskForm):
    """QC rejects some pieces: how many, rework or scrap, and why."""

    quantity = DecimalText(_l("Pieces rejected"), places=3, validators=[filled, positive])
    disposition = SelectField(_l("What happens to them"),
                              choices=options(*[(k, DISPOSITION_LABELS[k]) for k in QC_DISPOSITIONS]))
    note = TextAreaField(_l("What is wrong"), validators=[Length(max=2000)])


class IssueForm(OfflineForm):
    """Material to a work order (领料) or back from it (退料): the lot, scanned or typed, and how much."""

    lot = StringField(_l("Lot (scan its label or type its code)"), validators=[DataRequired(), Length(max=300)])
    quantity = DecimalText(_l("Quantity"), places=6, minimum=0, validators=[filled, positive])


SCRAP_REASON_LABELS = {
    "material": _l("Material defect"), "machining": _l("Machining error"), "setup": _l("Setup or first pieces"),
    "handling": _l("Damaged in handling"), "other": _l("Other (say in the note)"),
}


class OperationForm(ProgressForm):
    """One operation's report: good and scrap pieces, why scrapped, minutes spent, note and photos."""

    scrap_reason = SelectField(_l("Why scrapped"), choices=options(("", "—"), *SCRAP_REASON_LABELS.items()),
                               validate_choice=False)  # absent from the quick buttons' posts: checked below
    # A report covers one sitting: more minutes than a day has is a typing mistake.
    minutes = DecimalText(_l("Minutes spent"), places=1, minimum=0, maximum=1440)

    def validate_scrap_reason(self, field):
        """One of the reasons (or none); scrapped pieces need their reason; "other" needs the note."""
        if field.data and field.data not in SCRAP_REASON_LABELS:
            raise ValidationError(_l("Not a valid choice."))
        if (self.scrap.data or 0) > 0 and not field.data:
            raise ValidationError(_l("Choose why the pieces were scrapped."))
        if field.data == "other" and (self.scrap.data or 0) > 0 and not (self.note.data or "").strip():
            raise ValidationError(_l("Say in the note why the pieces were scrapped."))

