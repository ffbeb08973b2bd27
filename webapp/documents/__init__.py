"""Documents made for customers: PDF copies of what they signed (copies.py), on A4 pages with the
CJK font embedded (pdf.py, fonts/), mailed after signing and downloaded from the customer's links
(views.py). It stands above the domains whose signatures it copies (orders, shipping) and hears of
each signature through a signal (webapp/signals.py)."""
from ..registry import Domain, register

DOMAIN = register(Domain(name="documents"))


def init_app(app) -> None:
    """Connect the mail of the copies and add the copies' download routes to the blueprints of the
    links they are reached from (before those blueprints are registered: it comes first in
    webapp.domains())."""
    from . import copies, labels, packing, views  # noqa: F401  (signal receivers, routes)


# What other domains may import from this one: `from ..documents import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["DOMAIN", "init_app"]
