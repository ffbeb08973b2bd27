"""The working calendar: weekends and public holidays (from the holidays package), editable."""
from datetime import date, timedelta

import holidays as holidays_lib

from .extensions import db
from .firm import CalendarDay


def load_defaults(country: str, years: list[int]) -> int:
    """Add the country's public holidays for years (keeping days the firm already set)."""
    existing = set(db.session.scalars(db.select(CalendarDay.day)))
    added = 0
    # Holiday names in the firm's language where the package has it (Chinese for CN, HK, TW).
    language = {"CN": "zh_CN", "HK": "zh_HK", "TW": "zh_TW"}.get(country)
    calendar = holidays_lib.country_holidays(country, years=years, language=language)
    for day, name in sorted(calendar.items()):
        if day not in existing:
            db.session.add(CalendarDay(day=day, name=name, is_working=False))
            added += 1
    # China swaps weekends for long holidays: those Saturdays and Sundays are worked.
    if country == "CN":
        for year in years:
            swapped = getattr(holidays_lib.China(years=year), "weekend_workdays", {}) or {}
            for day in swapped:
                if day not in existing and day.year == year:
                    db.session.add(CalendarDay(day=day, name="调休", is_working=True))
                    added += 1
    return added


def is_working_day(day: date, overrides: dict[date, bool] | None = None) -> bool:
    """Whether the firm works on day: weekdays, unless a holiday; weekends, if swapped."""
    if overrides is None:
        overrides = {row.day: row.is_working for row in db.session.scalars(
            db.select(CalendarDay).where(CalendarDay.day == day))}
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5


def working_days_between(start: date, end: date, overrides: dict[date, bool] | None = None) -> int:
    """Count working days from start (inclusive) to end (exclusive); overrides: the calendar's
    exceptions over those days, when the caller read them already (a page of many rows)."""
    if overrides is None:
        overrides = {row.day: row.is_working for row in db.session.scalars(
            db.select(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day < end))}
    count, day = 0, start
    while day < end:
        count += is_working_day(day, overrides)
        day += timedelta(days=1)
    return count
