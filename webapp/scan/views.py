"""Views of scan."""
from . import bp  # noqa: F401
