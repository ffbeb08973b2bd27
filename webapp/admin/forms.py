"""Admin forms."""
import functools

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional, Regexp,
                                ValidationError)

from ..auth import EMPLOYEE_NO_INPUT, EXTERNAL_PROVIDERS, PIN_INPUT, external
from ..auth import ROLES
from ..auth import ROLE_LABELS  # noqa: F401  (kept importable from here)
from ..forms import MultiCheckbox  # noqa: F401  (kept importable from here)
from ..firm import FINANCE_READER_ROLES
from ..forms import DecimalText, EmailAddress, WholeNumberText, filled, options



class UserForm(FlaskForm):
    """A user's identity, roles and PIN."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=60), Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, _ . - only."))])
    employee_no = StringField(_l("Employee number"), validators=[Optional(), Length(max=30)],
                              render_kw={**EMPLOYEE_NO_INPUT, "data-keypad-toggle": ""})
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), EmailAddress(max=200)])
    roles = MultiCheckbox(_l("Roles"), choices=options(*[(r, ROLE_LABELS[r]) for r in ROLES]))
    password = PasswordField(_l("New password (leave empty to keep)"), validators=[Optional(), Length(min=8, max=200)])
    pin = PasswordField(_l("New PIN for shared phones (4–12 digits)"), validators=[
        Optional(), Regexp(r"^\d{4,12}$", message=_l("4 to 12 digits."))], render_kw=PIN_INPUT)
    active = BooleanField(_l("Active"), default=True)

    def validate_roles(self, field):
        """At least one role."""
        if not field.data:
            raise ValidationError(_l("Choose at least one role."))


class ExternalIdentityForm(FlaskForm):
    """Link a person to their WeCom userid or DingTalk unionId (typed in from the provider's admin)."""

    provider = SelectField(_l("Sign in with"), choices=options(*[(name, external.PROVIDER_LABELS[name])
                                                                 for name in EXTERNAL_PROVIDERS]))
    external_id = StringField(_l("Account id at the provider"), validators=[
        DataRequired(), Length(max=128),
        Regexp(external.EXTERNAL_ID, message=_l("Letters, digits and _ . @ + = - only, without spaces."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "autocorrect": "off", "spellcheck": "false"})


@functools.cache
def _time_zones() -> frozenset:
    """The IANA names this system's time-zone database has (read once: it lists a directory tree)."""
    from zoneinfo import available_timezones
    return frozenset(available_timezones())


FINANCE_READER_CHOICES = FINANCE_READER_ROLES  # the roles receivables reads (firm.py: one list for both)


class SettingsForm(FlaskForm):
    """How this firm runs its orders."""

    firm_name = StringField(_l("Firm name"), validators=[Optional(), Length(max=200)])
    firm_address = StringField(_l("Firm address (on the delivery note)"), validators=[Optional(), Length(max=300)])
    firm_phone = StringField(_l("Firm phone (on the delivery note)"), validators=[Optional(), Length(max=50)])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=60)])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Regexp(r"^[A-Z]{3}$")],
                           filters=[lambda v: v.strip().upper() if v else v])
    tax_rate = DecimalText(_l("Default tax rate %"), minimum=0, maximum=100, validators=[filled])
    reviews = MultiCheckbox(_l("Feasibility sign-offs an order needs"),
                            choices=options(("production", _l("Production: capacity against the date")),
                                     ("finance", _l("Finance: cost against price")),
                                     ("warehouse", _l("Warehouse: stock against need"))))
    manager_approval = BooleanField(_l("Manager approves every order"))
    finance_approval = BooleanField(_l("Finance approves orders"))
    finance_approval_threshold = DecimalText(_l("…only from this order total (0 = all)"), minimum=0,
                                             validators=[filled])
    amend_rereview = BooleanField(_l("Amendments go through feasibility review again"))
    amend_reapprove = BooleanField(_l("Amendments need approval again"))
    amend_resign = BooleanField(_l("Amendments need the customer's signature again"))
    prices_for_all_staff = BooleanField(_l("Production, warehouse, purchasing and QC staff see prices and margins"))
    sales_own_customers_only = BooleanField(_l("Sales reps see only their own customers and orders"))
    retail_quick = BooleanField(_l("Retail orders of stock items need no review, approval or countersignature"))
    # Receivables: 款到发货, and when payment reminders start (left empty, or missing from an older form: 3).
    finance_readers = MultiCheckbox(_l("Besides finance and the manager, who sees balances, invoices and statements"),
                                    choices=options(*[(r, ROLE_LABELS[r]) for r in FINANCE_READER_CHOICES]))
    hold_overdue_shipping = BooleanField(_l("Hold shipping for customers with an overdue balance (款到发货)"))
    remind_days_before = WholeNumberText(_l("Payment reminder, days before an invoice falls due (0: none)"), validators=[
        Optional(), NumberRange(min=0, max=60)], filters=[lambda days: 3 if days is None else days])
    # The same words as quality's FIRST_ARTICLE_CHOICES (the admin domain sits below quality).
    first_article = SelectField(_l("First article (首件确认) approved by the customer before mass production"),
                                choices=options(("never", _l("Never")),
                                                ("new", _l("When the customer orders a product for the first time")),
                                                ("always", _l("For every order"))))
    number_pattern = StringField(_l("Order number pattern"), validators=[DataRequired(), Length(max=60)])
    weekly_capacity = DecimalText(_l("Weekly production capacity (units)"), places=3, minimum=0,
                                  validators=[filled])
    retention_years = WholeNumberText(_l("Keep signatures and personal data for (years)"), validators=[
        InputRequired(), NumberRange(min=1, max=30)])
    # Left empty (or missing from an older form), the default year.
    signed_copy_days = WholeNumberText(_l("Customers can reopen what they signed for (days)"), validators=[
        Optional(), NumberRange(min=1, max=3650)], filters=[lambda days: 365 if days is None else days])
    calendar_country = SelectField(_l("Public holidays of"), choices=options(
        ("CN", _l("China")), ("HK", _l("Hong Kong")), ("TW", _l("Taiwan")), ("SG", _l("Singapore")),
        ("US", _l("United States")), ("DE", _l("Germany")), ("GB", _l("United Kingdom"))))

    def validate_signed_copy_days(self, field):
        """The copies are personal data: a customer's link cannot show them longer than they are kept."""
        years = self.retention_years.data
        if field.data is not None and isinstance(years, int) and field.data > years * 365:
            raise ValidationError(_l("No longer than personal data is kept."))

    def validate_timezone(self, field):
        """A real IANA time zone: one of the names the system knows (ZoneInfo() itself would try to
        open any text as a file, and fails on a long name or a NUL with an error of its own)."""
        if field.data not in _time_zones():
            raise ValidationError(_l("Unknown time zone, e.g. Asia/Shanghai."))

    def validate_number_pattern(self, field):
        """The pattern must name year, month, customer and serial (so numbers never repeat), and
        nothing else; the customer and the serial must be separated."""
        import string
        try:
            fields = [(literal, name) for literal, name, _spec, _conv in string.Formatter().parse(field.data)]
            field.data.format(yyyy="2026", mm="11", abbr="ACME", seq=1)
        except (KeyError, ValueError, IndexError, AttributeError):
            raise ValidationError(_l("Use only {yyyy}, {mm}, {abbr} and {seq:03d}.")) from None
        names = [name for _literal, name in fields if name is not None]
        if sorted(names) != ["abbr", "mm", "seq", "yyyy"]:
            raise ValidationError(_l("The pattern needs {yyyy}, {mm}, {abbr} and {seq}, each once."))
        order = {name: i for i, (_literal, name) in enumerate(fields) if name}
        # The abbreviation may begin or end with digits and the serial grows, so digits alone between
        # them (none, a "0", or {mm}) let two customers' numbers meet: {yyyy}{mm}{abbr}0{seq} made
        # 202601000901 both of 00's 901st order and of 0009's first. A character that is not a digit
        # (which a serial never holds) marks where one ends and the other begins.
        first, last = sorted((order["abbr"], order["seq"]))
        between = "".join(fields[i][0] for i in range(first + 1, last + 1))
        if not between:
            raise ValidationError(_l("Put a separator between {abbr} and {seq}."))
        if all(ch in string.digits for ch in between):
            raise ValidationError(_l("Put a separator that is not a digit between {abbr} and {seq}, e.g. a dash."))
        # The longest number the pattern makes: an abbreviation of 8 and a four-digit serial.
        if len(field.data.format(yyyy="2026", mm="11", abbr="ABCDEFGH", seq=9999)) > 40:
            raise ValidationError(_l("The numbers would be too long."))


class CalendarDayForm(FlaskForm):
    """A holiday, or a weekend day that is worked."""

    day = DateField(_l("Date"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    is_working = BooleanField(_l("Working day (e.g. a swapped weekend)"))


class RobotForm(FlaskForm):
    """A group chat robot: where it posts, how it signs, in which language, on or off."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[])
    webhook_url = StringField(_l("Webhook address"), validators=[DataRequired(), Length(max=500)],
                              render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"})
    signed = BooleanField(_l("Signs its posts (DingTalk 加签)"))
    secret = PasswordField(_l("Signing secret (starts with SEC; leave empty to keep)"),
                           validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "off"})
    locale = SelectField(_l("Language of its messages"), choices=[])
    enabled = BooleanField(_l("On"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..notify.routing import ROBOT_KIND_LABELS, ROBOT_KINDS
        self.kind.choices = options(*[(kind, ROBOT_KIND_LABELS[kind]) for kind in ROBOT_KINDS])
        self.locale.choices = options(("zh", "中文"), ("en", "English"))

    def check(self, robot) -> bool:
        """The address fits the kind's documented host, and a signing DingTalk robot has its secret
        (robot: the stored one, whose secret an empty field keeps); False with the messages set."""
        from ..notify import robots
        problem = robots.url_problem(self.kind.data, self.webhook_url.data)
        if problem:
            self.webhook_url.errors.append(problem)
        if self.kind.data == "dingtalk" and self.signed.data:
            secret = (self.secret.data or "").strip() or (robot.secret if robot is not None else "")
            if not secret:
                self.secret.errors.append(_l("Give the signing secret shown under 加签 in the robot's security settings."))
            elif not secret.startswith("SEC"):
                self.secret.errors.append(_l("DingTalk's signing secret starts with SEC: copy it whole."))
        return not (self.webhook_url.errors or self.secret.errors)
def _webhook_event_choices():
    from flask_babel import gettext
    from ..webhooks import EVENT_TYPES
    return [(name, gettext(label)) for name, label in EVENT_TYPES.items()]


class WebhookForm(FlaskForm):
    """A webhook endpoint: where to send, which events, and whether a private address is meant."""

    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"inputmode": "url", "autocomplete": "off", "placeholder": "https://"})
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    events = MultiCheckbox(_l("Events"))
    allow_private = BooleanField(_l("Allow a private or local network address"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = _webhook_event_choices()

    def validate_events(self, field):
        """At least one event."""
        if not field.data:
            raise ValidationError(_l("Choose at least one event."))
