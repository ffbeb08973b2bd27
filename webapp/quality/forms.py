"""Forms of quality: starting, recording and deciding an inspection, a failure's disposition, plans,
first articles and the customer's answer."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DecimalText, WholeNumberText, filled, options, positive
from .sampling import AQLS

STAGE_LABELS = {"incoming": _l("Incoming inspection"), "in_process": _l("In-process inspection"),
                "final": _l("Final inspection"), "first_article": _l("First article")}
RESULT_LABELS = {"pending": _l("Not decided"), "pass": _l("Passed"), "fail": _l("Failed"),
                 "conditional": _l("Released with a condition")}
DISPOSITION_LABELS = {"rework": _l("Rework"), "scrap": _l("Scrap"), "return": _l("Return to the supplier"),
                      "use_as_is": _l("Use as is")}
SAMPLING_LABELS = {"iso2859": _l("ISO 2859-1, level II, normal (AQL)"), "fixed": _l("A fixed number of pieces"),
                   "all": _l("Every piece")}
# The firm setting FirmSettings.first_article (the admin page's field is the lead's to add).
FIRST_ARTICLE_CHOICES = [("never", _l("Never")),
                         ("new", _l("When the customer orders a product for the first time")),
                         ("always", _l("For every order"))]


class DefectsForm(FlaskForm):
    """How many pieces of the sample are defective (the values per item are read by the view)."""

    defects = WholeNumberText(_l("Defective pieces in the sample"), [filled], minimum=0, maximum=1000000, default=0)


class DecisionForm(FlaskForm):
    """Pass, conditional release (with a note) or fail."""

    decision = SelectField(_l("Decision"), choices=options(("pass", _l("Pass")), ("conditional", _l("Release with a condition")),
                                                           ("fail", _l("Fail"))))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])

    def validate_note(self, field):
        """A conditional release says its condition."""
        if self.decision.data == "conditional" and not (field.data or "").strip():
            raise ValidationError(_l("Say why it is released conditionally."))


class DispositionForm(FlaskForm):
    """What happens to the rejected pieces of a failure (which resolves it)."""

    quantity = DecimalText(_l("Rejected quantity"), [filled, positive], places=3, minimum=0)
    disposition = SelectField(_l("What happens to them"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def set_choices(self, stage: str) -> "DispositionForm":
        """The dispositions that fit what was inspected."""
        keys = ("scrap", "return", "use_as_is") if stage == "incoming" else ("rework", "scrap")
        self.disposition.choices = options(*[(k, DISPOSITION_LABELS[k]) for k in keys])
        return self


class StartWorkOrderForm(FlaskForm):
    """Which inspection of a work order to start."""

    stage = SelectField(_l("Inspection"), choices=options(("final", STAGE_LABELS["final"]),
                                                          ("in_process", STAGE_LABELS["in_process"])))


class FirstArticleForm(FlaskForm):
    """A first piece or a sample to inspect and send to the customer."""

    kind = SelectField(_l("What is it"), choices=options(("first_piece", _l("First piece")), ("sample", _l("Sample"))))
    note = TextAreaField(_l("Note for the customer"), validators=[Length(max=2000)])


class PhotosForm(FlaskForm):
    """Photos of a first article."""

    photos = MultipleFileField(_l("Photos"))


class PlanForm(FlaskForm):
    """An inspection plan: what it is for and how many pieces to sample."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    stage = SelectField(_l("Stage"), choices=options(*STAGE_LABELS.items()))
    product_id = SelectField(_l("Product"), coerce=int, validators=[Optional()])
    material_id = SelectField(_l("Material (incoming)"), coerce=int, validators=[Optional()])
    customer_id = SelectField(_l("Customer (their own standard)"), coerce=int, validators=[Optional()])
    sampling = SelectField(_l("Sample size"), choices=options(*SAMPLING_LABELS.items()))
    aql = SelectField(_l("AQL (%)"), choices=options(*[(a, a) for a in AQLS]), default="1.0")
    fixed_count = WholeNumberText(_l("Pieces (fixed number)"), minimum=1, maximum=100000, default=5)
    standard = TextAreaField(_l("The customer's quality standard"), validators=[Length(max=4000)])
    active = BooleanField(_l("In use"), default=True)

    def validate_fixed_count(self, field):
        """A fixed sample needs its number."""
        if self.sampling.data == "fixed" and not field.data:
            raise ValidationError(_l("This field is required."))

    def validate_product_id(self, field):
        """A plan is for a product or a material (incoming), or for a customer's whole standard."""
        if not (field.data or self.material_id.data or self.customer_id.data):
            raise ValidationError(_l("Choose a product, a material or a customer."))


class PlanItemForm(FlaskForm):
    """One check of a plan: a measurement with limits, or a look (no limits: ok / not ok)."""

    name = StringField(_l("Check"), validators=[DataRequired(), Length(max=200)])
    method = StringField(_l("Method"), validators=[Length(max=200)])
    lower = DecimalText(_l("Lower limit"), places=6, minimum=-1000000000)
    upper = DecimalText(_l("Upper limit"), places=6, minimum=-1000000000)
    unit = StringField(_l("Unit"), validators=[Length(max=20)])

    def validate_upper(self, field):
        """The upper limit is not below the lower one."""
        if field.data is not None and self.lower.data is not None and field.data < self.lower.data:
            raise ValidationError(_l("The upper limit is below the lower limit."))


class CustomerAnswerForm(FlaskForm):
    """The customer's decision on a first article: accept or reject, their name and a comment."""

    decision = SelectField(_l("Your decision"), choices=options(("approve", _l("Approve the first article")), ("reject", _l("Reject the first article"))))
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])

    def validate_comment(self, field):
        """A rejection says why."""
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Tell us what is wrong so that we can correct it."))
