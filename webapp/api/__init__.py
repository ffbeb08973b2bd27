"""The JSON API (/api/v1) for the firm's other systems: the same services, permissions and object
scope as the pages, reached with a per-user API token; described by an OpenAPI 3.1 document made
from the code's own schemas (docs/api.md)."""
from flask import Blueprint

from ..extensions import csrf
from ..registry import Domain, public_names, register

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The account page's token list (under /account, not the API: it is a page, with a session and CSRF).
tokens_bp = Blueprint("api_tokens", __name__)
# The API takes no cookie: its only credential is the Authorization header (api/core.py), which a page
# elsewhere cannot make a browser send, so a forged cross-site request carries nothing it accepts.
csrf.exempt(bp)

# Every user may keep tokens for themselves: a token acts with its owner's roles, never more.
DOMAIN = register(Domain(name="api"))


def init_app(app) -> None:
    """Attach the API, its document and reference page, and the account's token list."""
    from . import core, models, resources, spec, tokens  # noqa: F401  (routes, tables)
    app.register_blueprint(bp)
    app.register_blueprint(tokens_bp)


# What other domains may import from this one: nothing (it reads every domain; none reads it).
_PUBLIC: dict[str, str] = {}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
