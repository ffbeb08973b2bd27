"""Forms for logging in, switching the active worker and changing a password."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# Numbers typed on a phone open its numeric keypad (inputmode); no autofill or autocorrect of a
# colleague's number, and no password manager offering to keep a PIN. The pattern also brings up the
# keypad on older iPhones; forms are novalidate, so it never blocks a submit (the server judges).
EMPLOYEE_NO_INPUT = {"inputmode": "numeric", "autocomplete": "off", "autocapitalize": "characters",
                     "autocorrect": "off", "spellcheck": "false", "enterkeyhint": "next"}
PIN_INPUT = {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off", "enterkeyhint": "go"}


class SwitchForm(FlaskForm):
    """Employee number and PIN, to hand a shared phone to another worker."""

    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=30)],
                              render_kw={**EMPLOYEE_NO_INPUT, "data-keypad-toggle": ""})
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(min=4, max=12)], render_kw=PIN_INPUT)


class BadgePinForm(FlaskForm):
    """The PIN that goes with a scanned badge (a badge alone does not switch: it may be lost)."""

    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(min=4, max=12)], render_kw=PIN_INPUT)


class EnrolForm(FlaskForm):
    """The one-time code a supervisor shows, typed on the phone that becomes a floor phone."""

    code = StringField(_l("Enrolment code"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"inputmode": "numeric", "pattern": "[0-9 ]*", "autocomplete": "one-time-code",
                                  "autocorrect": "off", "spellcheck": "false", "enterkeyhint": "go",
                                  "maxlength": "20"})


class FloorCodeForm(FlaskForm):
    """What to call the phone about to be enrolled (it is listed and locked out by this name)."""

    label = StringField(_l("Name of the phone"), validators=[DataRequired(), Length(max=100)])


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two passwords differ."))])
