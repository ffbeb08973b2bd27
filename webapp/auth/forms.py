"""Forms for logging in, switching the active worker and changing a password."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class SwitchForm(FlaskForm):
    """Employee number and PIN, to hand a shared phone to another worker."""

    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=30)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(min=4, max=12)])


class PasswordForm(FlaskForm):
    """Change one's own password."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two passwords differ."))])
