"""Template filters and globals: per-locale money, quantities and times, and permission checks."""
from decimal import Decimal

from babel.numbers import get_currency_symbol
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask import session, url_for
from flask_login import current_user

from . import permissions
from .contacts import tel_href
from .db_types import utcnow
from .permissions import MACHINES
from .statemachine import N_
from .labels import label, state_label


# Yuan print as ¥ in every language: Babel's English "CN¥" tells a Chinese firm's staff and customers
# nothing they do not know, and reads as a typo on a quote. Other currencies keep Babel's symbols.
LOCAL_SYMBOLS = {"CNY": "¥"}


def money(value, currency: str = "CNY") -> str:
    """Format money in the user's locale, e.g. ¥1,234.50 (yuan as ¥ in English too)."""
    if value is None:
        return "—"
    text = format_currency(Decimal(value), currency)
    symbol = LOCAL_SYMBOLS.get(currency)
    if symbol:
        text = text.replace(get_currency_symbol(currency, locale=get_locale()), symbol)
    return text


def quantity(value) -> str:
    """Format a quantity without trailing zeros (12, 12.5, 0.125)."""
    if value is None:
        return "—"
    return format_decimal(Decimal(value).normalize(), format="#,##0.###")


def quantity_input(value) -> str:
    """A quantity as an input's value: no grouping, so "2000" reads back as 2000 (see forms.parse_decimal)."""
    from .forms import input_number
    return input_number(value, places=3)


def datetime_local(value, fmt: str = "medium") -> str:
    """Format an aware UTC time in the firm's time zone."""
    return format_datetime(value, fmt) if value else "—"


def date_local(value, fmt: str = "medium") -> str:
    """Format a date (or an ISO date string from frozen terms) in the user's locale."""
    if not value:
        return "—"
    if isinstance(value, str):
        from datetime import date
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return format_date(value, fmt)




EVENT_LABELS = {
    "requirement.created": N_("Requirement written down"),
    "requirement.edited": N_("Requirement edited"),
    "requirement.attachment": N_("File attached"),
    "order.created": N_("Order drawn up"),
    "order.edited": N_("Order edited"),
    "order.budget": N_("Cost budget set"),
    "order.numbered": N_("Order number assigned"),
    "order.payment": N_("Payment recorded"),
    "order.review": N_("Feasibility sign-off"),
    "order.approve": N_("Approved"),
    "order.reject": N_("Rejected"),
    "order.eta_changed": N_("Expected date changed"),
    "order.link_renewed": N_("New customer link"),
    "order.link_revoked": N_("Customer link withdrawn"),
    "requirement.link_renewed": N_("New customer link"),
    "requirement.link_revoked": N_("Customer link withdrawn"),
    "work_order.created": N_("Work order created"),
    "work_order.split": N_("Work order split"),
    "work_order.progress": N_("Progress reported"),
    "work_order.anomaly": N_("Anomaly raised"),
    "work_order.anomaly_resolved": N_("Anomaly resolved"),
    "shipment.created": N_("Shipment created"),
    "shipment.line_checked": N_("Packing-list line checked"),
    "shipment.problem": N_("Courier reported a problem"),
    "return.opened": N_("Return case opened"),
    "return.started": N_("Return case started"),
    "return.closed": N_("Return case closed"),
    "order.close_override": N_("Closed by a manager's override"),
    "work_order.from_stock": N_("Line taken from stock (no work order)"),
    "follow_up.created": N_("Follow-up call planned"),
    "ticket.opened": N_("Ticket opened"),
    "survey.sent": N_("Satisfaction survey sent"),
    "cost_sheet.saved": N_("Cost sheet saved"),
    "cost_sheet.finalised": N_("Cost sheet finalised"),
    # What the order's timeline says happened (a transition's own label is what a button says).
    "order.submit": N_("Submitted for review"),
    "order.override_concern": N_("Concern overridden"),
    "order.countersign": N_("Countersigned by the customer"),
    "order.start_production": N_("Released to production"),
    "work_order.start": N_("Work started"),
    "work_order.finish": N_("Work finished, waiting for QC"),
    "work_order.fail_qc": N_("QC rejected pieces"),
    "work_order.block": N_("Work stopped"),
    "work_order.unblock": N_("Work resumed"),
    "shipment.dispatch": N_("Dispatched"),
    "shipment.deliver": N_("Delivered and signed for"),
    "ticket.respond": N_("Ticket answered"),
    "ticket.customer_reply": N_("Customer replied"),
    "follow_up.record": N_("Follow-up call made"),
}


def labelled(label, value) -> str:
    """A label and its value as the locale writes them ("Owner: Li", "负责人：李"): never an ASCII
    colon glued to a Chinese word in a template."""
    return _("%(label)s: %(value)s", label=label, value=value)


def _return_reason(case) -> str:
    from .shipping.services import return_reason
    return return_reason(case)


def list_in_words(items) -> str:
    """Join labels as the locale writes a list ("A、B和C", "A, B and C")."""
    from babel.lists import format_list
    return format_list([str(item) for item in items], locale=get_locale()) if items else ""


def event_label(action: str) -> str:
    """A translated label for an audit action (transition labels come from the lifecycle tables)."""
    if action in EVENT_LABELS:
        return _(EVENT_LABELS[action])
    machine_name, _sep, name = action.partition(".")
    machine = MACHINES.get(machine_name)
    if machine and name in machine.transitions and machine.transitions[name].label:
        return _(machine.transitions[name].label)
    return action


def _firm_name() -> str:
    from .admin.models import get_settings
    return get_settings().firm_name


def app_config() -> dict:
    """What outbox.js needs to know about this page: who is logged in, where to enrol (its words: script_texts)."""
    from flask_wtf.csrf import generate_csrf
    user = None
    if current_user.is_authenticated:
        user = {"id": current_user.id, "name": current_user.name, "employeeNo": current_user.employee_no or ""}
    just_switched = user is not None and session.pop("just_switched", None) == current_user.id
    return {
        "user": user,
        "justSwitched": just_switched,
        "switchUrl": url_for("auth.switch"),
        "csrf": generate_csrf() if user else "",
        "renderedAt": utcnow().isoformat(),
        "enrolUrl": url_for("sync.enrol"),
        "swUrl": url_for("pwa.service_worker"),
    }


def _clock_rule(key: str) -> str:
    """The words for a clock's rule, e.g. "3 working days", to print beside the date it set."""
    from .clocks import CLOCKS
    return CLOCKS[key].rule()


def init_app(app) -> None:
    """Register the filters and globals."""
    from .i18n import local_date
    app.jinja_env.filters.update(money=money, qty=quantity, qty_input=quantity_input, dt=datetime_local, d=date_local,
                                 state=state_label, label=label, event=event_label, format_list=list_in_words,
                                 local_date=local_date, tel=tel_href)
    app.jinja_env.globals.update(can=lambda action, obj=None: permissions.can(current_user, action, obj),
                                 get_locale=get_locale, firm_name=_firm_name, labelled=labelled,
                                 return_reason=_return_reason, clock_rule=_clock_rule,
                                 app_config=app_config, now_iso=lambda: utcnow().isoformat())
    app.jinja_env.policies["ext.i18n.trimmed"] = True
