"""Template filters and globals: per-locale money, quantities and times, and permission checks."""
from decimal import Decimal

from babel.numbers import get_currency_symbol
from flask_babel import format_currency, format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask import session, url_for
from flask_login import current_user

from . import permissions, registry
from .contacts import tel_href
from .labels import label, state_label
from .wallclock import utcnow


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


def fine_quantity(value) -> str:
    """A quantity per unit or of a material, to six places without trailing zeros (0.0042)."""
    if value is None:
        return "—"
    return format_decimal(Decimal(value).normalize(), format="#,##0.######")


def fine_input(value) -> str:
    """A fine quantity as an input's value (no grouping)."""
    from .forms import input_number
    return input_number(value, places=6)


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




def labelled(label, value) -> str:
    """A label and its value as the locale writes them ("Owner: Li", "负责人：李"): never an ASCII
    colon glued to a Chinese word in a template."""
    return _("%(label)s: %(value)s", label=label, value=value)


def list_in_words(items) -> str:
    """Join labels as the locale writes a list ("A、B和C", "A, B and C")."""
    from babel.lists import format_list
    return format_list([str(item) for item in items], locale=get_locale()) if items else ""


def event_label(action: str) -> str:
    """A translated label for an audit action (transition labels come from the lifecycle tables)."""
    text = registry.event_text(action)  # what the domains registered (webapp/registry.py)
    return _(text) if text else action


def template_globals() -> dict:
    """Helpers a domain adds to every template (its registration's `template_globals`)."""
    found: dict = {}
    for domain in registry.domains():
        found.update(domain.template_globals)
    return found


def scanner_files() -> list[str]:
    """The hashed URLs of the scanner's decoder files, as the service worker lists them."""
    from .assets import scanner_files as names
    return [url_for("static", filename=name) for name in names()]


def app_config() -> dict:
    """What outbox.js needs to know about this page: who is logged in, where to enrol (its words: script_texts)."""
    from .csrfmask import masked_csrf_token
    user = None
    if current_user.is_authenticated:
        user = {"id": current_user.id, "name": current_user.name, "employeeNo": current_user.employee_no or ""}
    just_switched = user is not None and session.pop("just_switched", None) == current_user.id
    return {
        "user": user,
        "justSwitched": just_switched,
        "switchUrl": url_for("auth.switch"),
        "csrf": masked_csrf_token() if user else "",
        # The scanner's decoder, kept once on the phones of people who scan (outbox/pages.js asks the
        # service worker when it is not kept yet); nobody else's phone fetches it before the scan page.
        "scanner": scanner_files() if permissions.scans(current_user) else [],
        "renderedAt": utcnow().isoformat(timespec="seconds"),  # minutes are shown; no microseconds in every page
        "enrolUrl": url_for("sync.enrol"),
        # One worker for every language (no ?lang=): a new language must not install a new worker.
        "swUrl": url_for("pwa.service_worker"),
        # The person's language, recorded on the phone for the worker: it shows the offline and outbox
        # pages it keeps in this language (not the browser's Accept-Language).
        "lang": str(get_locale()),
    }


def _clock_rule(key: str) -> str:
    """The words for a clock's rule, e.g. "3 working days", to print beside the date it set."""
    from .clocks import CLOCKS
    return CLOCKS[key].rule()


def init_app(app) -> None:
    """Register the filters and globals."""
    from .i18n import local_date
    app.jinja_env.filters.update(money=money, qty=quantity, qty_input=quantity_input, fine=fine_quantity,
                                 fine_input=fine_input, dt=datetime_local, d=date_local,
                                 state=state_label, label=label, event=event_label, format_list=list_in_words,
                                 local_date=local_date, tel=tel_href)
    app.jinja_env.globals.update(can=lambda action, obj=None: permissions.can(current_user, action, obj),
                                 get_locale=get_locale, labelled=labelled, clock_rule=_clock_rule,
                                 app_config=app_config, now_iso=lambda: utcnow().isoformat(timespec="seconds"))
    app.jinja_env.globals.update(template_globals())  # e.g. firm_name (admin), return_reason (shipping)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
