"""The working calendar (kept in webapp/workdays.py, which working time reads; the admin pages edit it)."""
from ..workdays import is_working_day, load_defaults, working_days_between  # noqa: F401
