"""Views of sync."""
from . import bp  # noqa: F401
