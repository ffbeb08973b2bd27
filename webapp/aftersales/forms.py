"""After-sales forms: the follow-up call, tickets and answers, the customer's survey."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import DecimalText, filled, options, positive

RATING_CHOICES = options(("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5"))


class FollowUpForm(FlaskForm):
    """What came out of the follow-up call."""

    outcome = TextAreaField(_l("Outcome of the call"), validators=[
        DataRequired(message=_l("Write down what the customer said.")), Length(max=4000)])


class TicketForm(FlaskForm):
    """A new ticket: what it is about and the details."""

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
