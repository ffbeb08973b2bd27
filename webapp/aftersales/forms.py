"""After-sales forms: the follow-up call, tickets and answers, the customer's survey."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..auth import ROLE_LABELS
from ..forms import DecimalText, filled, options, positive
from .lifecycle import SOLUTION_LABELS, TICKET_KIND_LABELS
from .models import DEPARTMENTS

RATING_CHOICES = options(("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"))


class FollowUpForm(FlaskForm):
    """What came out of the follow-up call."""

    outcome = TextAreaField(_l("Outcome of the call"), validators=[
        DataRequired(message=_l("Write down what the customer said.")), Length(max=4000)])


def _kind_field():
    # Not sent (an older page): "other"; a value not in the list: refused with its message.
    return SelectField(_l("Type"), default="other",
                       choices=options(*((key, _l(label)) for key, label in TICKET_KIND_LABELS.items())),
                       invalid_choice_message=_l("Choose the ticket's type from the list."))


def _solution_field():
    return SelectField(_l("Solution"), default="",
                       choices=options(("", _l("Not chosen yet")),
                                       *((key, _l(label)) for key, label in SOLUTION_LABELS.items())),
                       invalid_choice_message=_l("Choose the solution from the list."))


class TicketForm(FlaskForm):
    """A new ticket: its type, what it is about and the details."""

    kind = _kind_field()
    subject = StringField(_l("Subject"), validators=[
        DataRequired(message=_l("Say in a few words what it is about.")), Length(max=200)])
    description = TextAreaField(_l("Details"), validators=[
        DataRequired(message=_l("Describe the problem.")), Length(max=4000)])


class CustomerTicketForm(TicketForm):
    """A ticket the customer opens on their order link (with their name)."""

    name = StringField(_l("Your name"), validators=[
        DataRequired(message=_l("Enter your name so that we know whom to answer.")), Length(max=100)])


class MessageForm(FlaskForm):
    """An answer from staff, or the customer's reply."""

    body = TextAreaField(_l("Message"), validators=[
        DataRequired(message=_l("Write a message.")), Length(max=4000)])


def _rating(label):
    return RadioField(label, choices=RATING_CHOICES,
                      invalid_choice_message=_l("Choose a rating from 1 (poor) to 5 (excellent)."))


class SurveyForm(FlaskForm):
    """The satisfaction survey: three ratings from 1 to 5 and suggestions."""

    requirement_response = _rating(_l("How well did we respond to your requirement?"))
    delivery_timeliness = _rating(_l("Was the delivery on time?"))
    service_quality = _rating(_l("How good was our service?"))
    suggestions = TextAreaField(_l("Suggestions"), validators=[Length(max=4000)])


class NoticesForm(FlaskForm):
    """Which mails about their order the customer's contact wants (aftersales/tracking.py NOTICE_LABELS)."""

    eta = BooleanField(_l("A new expected date"))
    shipped = BooleanField(_l("A shipment has left"))
    delayed = BooleanField(_l("A delivery attempt failed"))
    delivered = BooleanField(_l("A shipment was delivered"))
    ticket = BooleanField(_l("We answered your question"))


class TicketCostForm(FlaskForm):
    """A cost of solving the ticket: what kind, how much, a note."""

    kind = SelectField(_l("Kind of cost"), choices=options(
        ("parts", _l("Spare parts")), ("freight", _l("Freight")), ("visit", _l("Technician's visit")),
        ("other", _l("Other"))))
    amount = DecimalText(_l("Amount"), minimum=0, validators=[filled, positive])
    note = StringField(_l("Note"), validators=[Length(max=500)], filters=[lambda v: (v or "").strip()])


class AnswerForm(MessageForm):
    """Staff answer the customer, proposing a solution (the customer then confirms it)."""

    solution = _solution_field()


class ClassifyForm(FlaskForm):
    """The ticket's type (its deadline to solve follows) and the solution chosen."""

    kind = _kind_field()
    solution = _solution_field()


class AssignForm(FlaskForm):
    """Hand the ticket to another department for its part, saying what is asked of it."""

    department = SelectField(_l("Department"), choices=options(
        *((role, ROLE_LABELS[role]) for role in DEPARTMENTS)),
        invalid_choice_message=_l("Choose a department from the list."))
    note = TextAreaField(_l("What is asked of the department"), validators=[
        DataRequired(message=_l("Say what the department should do.")), Length(max=2000)])


class HandBackForm(FlaskForm):
    """The department did its part: what it found or did."""

    note = TextAreaField(_l("What the department found or did"), validators=[
        DataRequired(message=_l("Say what the department found or did.")), Length(max=2000)])


class PhoneConfirmForm(FlaskForm):
    """The customer confirmed the resolution on the phone: with whom staff spoke."""

    note = StringField(_l("Who confirmed on the phone"), validators=[
        DataRequired(message=_l("Enter the name of the person who confirmed.")), Length(max=200)],
        filters=[lambda v: (v or "").strip()])
