"""The firm's settings and working calendar (the models live in webapp/firm.py, which every layer
reads; the admin pages edit them)."""
from ..firm import APPROVER_ROLES, REVIEW_DEPARTMENTS, CalendarDay, FirmSettings, get_settings  # noqa: F401
