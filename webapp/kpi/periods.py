"""The periods a KPI is measured over: a month, a quarter or a year of the firm's calendar, named by
a key a URL carries ("2026-11", "2026-Q4", "2026"), with its bounds in the firm's time zone."""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l

from ..i18n import firm_today, firm_zone

KINDS = ("month", "quarter", "year")
KIND_LABELS = {"month": _l("Month"), "quarter": _l("Quarter"), "year": _l("Year")}
TREND = 12  # periods in a trend chart, the chosen one last
_PATTERNS = {"month": re.compile(r"(\d{4})-(\d{2})"), "quarter": re.compile(r"(\d{4})-Q([1-4])"),
             "year": re.compile(r"(\d{4})")}
# Far enough back for any firm's history, near enough that a typo (year 0001) is refused.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class BadPeriod(ValueError):
    """A period the URL names that does not exist (the message says why, in the user's language)."""


@dataclass(frozen=True)
class Period:
    """One month, quarter or year: first and last are the firm's local dates, both included."""

    kind: str
    first: date
    last: date

    @property
    def key(self) -> str:
        """What the URL carries: 2026-11, 2026-Q4 or 2026."""
        if self.kind == "month":
            return f"{self.first.year}-{self.first.month:02d}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def short(self) -> str:
        """A chart's axis label: 11, Q4 or 2026 (the year is in the chart's description)."""
        if self.kind == "month":
            return f"{self.first.month}"
        if self.kind == "quarter":
            return f"Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def start(self) -> datetime:
        """The first instant (UTC) of the period in the firm's time zone."""
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant (UTC) after the period."""
        return _midnight(self.next().first)

    def contains(self, day: date) -> bool:
        """Whether a firm-local date falls in the period."""
        return self.first <= day <= self.last

    def next(self) -> "Period":
        """The period after this one."""
        return shift(self, 1)

    def previous(self) -> "Period":
        """The period before this one."""
        return shift(self, -1)


def window(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants (UTC) from the firm-local start of first to the start of the day after last."""
    return _midnight(first), _midnight(last + timedelta(days=1))


def _midnight(day: date) -> datetime:
    """The firm-local midnight that starts day, as an aware UTC time."""
    return datetime.combine(day, time(), tzinfo=firm_zone()).astimezone(timezone.utc)


def _months(kind: str) -> int:
    return {"month": 1, "quarter": 3, "year": 12}[kind]


def make(kind: str, year: int, month: int) -> Period:
    """The period of kind that starts in year/month (month is the period's first month)."""
    span = _months(kind)
    index = year * 12 + month - 1 + span
    last_exclusive = date(index // 12, index % 12 + 1, 1)
    return Period(kind, date(year, month, 1), date.fromordinal(last_exclusive.toordinal() - 1))


def shift(period: Period, count: int) -> Period:
    """The period count periods after (before, if negative) period."""
    index = period.first.year * 12 + period.first.month - 1 + count * _months(period.kind)
    return make(period.kind, index // 12, index % 12 + 1)


def containing(kind: str, day: date) -> Period:
    """The period of kind that holds day."""
    month = {"month": day.month, "quarter": (day.month - 1) // 3 * 3 + 1, "year": 1}[kind]
    return make(kind, day.year, month)


def parse(kind: str | None, key: str | None) -> Period:
    """The period a request names (kind and key from its query string; the current one by default);
    BadPeriod with a translated message for anything else."""
    kind = (kind or "month").strip()
    if kind not in KINDS:
        raise BadPeriod(_l("Choose a month, a quarter or a year."))
    key = (key or "").strip()
    if not key:
        return containing(kind, firm_today())
    match = _PATTERNS[kind].fullmatch(key)
    if match is None:
        example = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}[kind]
        raise BadPeriod(_l("“%(key)s” is not a %(kind)s: write it like %(example)s.", key=key[:40],
                           kind=KIND_LABELS[kind], example=example))
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadPeriod(_l("Choose a year from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    if kind == "month":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise BadPeriod(_l("A month is numbered 01 to 12."))
        return make(kind, year, month)
    if kind == "quarter":
        return make(kind, year, (int(match.group(2)) - 1) * 3 + 1)
    return make(kind, year, 1)


def trend(period: Period, count: int = TREND) -> list[Period]:
    """The count periods ending with period, oldest first."""
    return [shift(period, offset) for offset in range(-(count - 1), 1)]


def month_periods(count: int = TREND) -> list[Period]:
    """The last count months in the firm's time zone, the current one last."""
    return trend(containing("month", firm_today()), count)
