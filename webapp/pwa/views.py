"""Views of pwa."""
from . import bp  # noqa: F401
