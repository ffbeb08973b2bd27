"""Language and time-zone choice; formatting of money, quantities and times per locale."""
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from .wallclock import utcnow


def select_locale() -> str:
    """The user's choice, else the session's, else the browser's Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    try:
        if current_user and current_user.is_authenticated and current_user.locale in languages:
            return current_user.locale
    except DBAPIError:
        pass  # the database went away (an error page is being drawn): the session's or browser's language
    if session.get("lang") in languages:
        return session["lang"]
    best = request.accept_languages.best_match(languages)
    if best:
        return best
    # "zh-CN", "zh-Hans-CN" and friends: match on the primary tag.
    for value, _quality in request.accept_languages:
        if value.split("-")[0].lower() in languages:
            return value.split("-")[0].lower()
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The firm's time zone: times are shown in it and 'this month' is the firm's month."""
    from .firm import get_settings
    return get_settings().timezone


def firm_zone() -> ZoneInfo:
    """The firm's time zone (admin settings)."""
    return ZoneInfo(select_timezone())


def firm_today() -> date:
    """Today in the firm's time zone: the date to compare with planned and due dates, which are the
    firm's local dates (the server's or UTC's date is a day off for part of every day). The time is
    the one clock's (wallclock.utcnow)."""
    return utcnow().astimezone(firm_zone()).date()


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of first_day to the end of last_day, in the firm's zone."""
    zone = firm_zone()
    start = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return start, end


def local_date(moment: datetime) -> date:
    """The firm's local date of an aware (UTC) time, e.g. to compare it with a planned date."""
    return moment.astimezone(firm_zone()).date()


def local_dates():
    """local_date with the firm's zone read once, for many moments: local_date reads the firm's
    settings on every call, which a year of KPI facts or a board of thousands made per view."""
    zone = firm_zone()
    return lambda moment: moment.astimezone(zone).date()


class FormTranslations:
    """WTForms' own messages read through our catalogue first, WTForms' catalogue for the rest: one
    wording for one thing ("This field is required." once read 此项为必填项 from our checks and
    该字段是必填字段 from WTForms' DataRequired)."""

    def __init__(self):
        self._wtforms = None

    def _theirs(self):
        if self._wtforms is None:
            from flask_babel import get_locale
            self._wtforms = _wtforms_catalogue(str(get_locale()))
        return self._wtforms

    def ugettext(self, string: str) -> str:
        """Ours if our catalogue translates it, else WTForms'."""
        from flask_babel import get_translations
        ours = get_translations().ugettext(string)
        return ours if ours != string else self._theirs().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        """Ours if our catalogue translates it, else WTForms'."""
        from flask_babel import get_translations
        ours = get_translations().ungettext(singular, plural, n)
        return ours if ours not in (singular, plural) else self._theirs().ungettext(singular, plural, n)


def request_translations():
    """This request's catalogue, found once per request and locale. Flask-Babel finds it anew on every
    call (the context, the domain, the locale: a dozen context-local lookups), and a page calls _() a
    few hundred times; a locale changed during the request (flask_babel.refresh) is followed."""
    from flask import g
    from flask_babel import get_locale, get_translations
    store = g._get_current_object()
    babel_context = store.__dict__.get("_flask_babel")
    locale = getattr(babel_context, "babel_locale", None)
    kept = store.__dict__.get("_request_translations")
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    store._request_translations = (get_locale(), translations)
    return translations


def install_template_gettext(app) -> None:
    """The templates' _(), ngettext() and pgettext() read this request's catalogue once (above)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str):
    """WTForms' own catalogue for a locale, read from its .mo once per process (it was parsed on every
    request that built a form)."""
    from babel import support
    from wtforms.i18n import messages_path
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def use_our_words_in_forms() -> None:
    """Give Flask-WTF the merged translations for this request (it looks for them on the request)."""
    request.wtforms_translations = FormTranslations()
