"""Money owed by customers: invoices (发票) recorded against shipments or milestones, payments matched
to them, return credits netted, balances and ageing in the firm's currency, monthly statements (对账单)
the customer confirms on their phone, payment reminders, the shipping hold for overdue customers
(款到发货), and the bookkeeper's accounting export."""
from flask import Blueprint

from ..firm import FINANCE_READER_ROLES
from ..registry import Domain, LinkPurpose, public_names, register
from ..statemachine import N_
from .lifecycle import MACHINE as STATEMENT_MACHINE, SENDERS

bp = Blueprint("receivables", __name__, url_prefix="/receivables")

# Who reads receivables: finance, the manager and the admin always, and the roles the firm adds
# (FirmSettings.finance_roles, from FINANCE_ROLE_CHOICES); who records them: finance and the admin.
FINANCE = frozenset({"finance", "manager", "admin"})
RECORDERS = SENDERS  # who records invoices and payments sends the statements too
FINANCE_ROLE_CHOICES = FINANCE_READER_ROLES


def may_see_receivables(user, obj=None) -> bool:
    """Finance data (balances, invoices, statements, ageing) for finance, the manager, the admin
    and the roles the firm allows."""
    if user.roles & FINANCE:
        return True
    from ..firm import get_settings
    allowed = set(get_settings().finance_readers())
    return bool(user.roles & allowed)


def _open_statement(link):
    from .statement_views import open_statement
    return open_statement(link)


def _labels() -> dict:
    from .statements import STATUS_WORDS
    return {"statement_status": STATUS_WORDS}


def _order_page(order) -> dict:
    """The order page's "Invoices and payments" section (orders is below this domain)."""
    from .views import order_page_context
    return order_page_context(order)


def _shipment_page(shipment) -> dict:
    """The shipping hold and its release form on a shipment's page."""
    from .views import shipment_page_context
    return shipment_page_context(shipment)


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


DOMAIN = register(Domain(
    name="receivables", labels=_labels, machines=(STATEMENT_MACHINE,),
    # The bookkeeper's voucher export stays with finance, the manager and the admin.
    actions={"receivables.record": RECORDERS, "receivables.books": FINANCE},
    checks={"receivables.view": may_see_receivables},
    link_purposes=(LinkPurpose("statement", _open_statement, managers=("receivables.view",)),),
    events={"invoice.recorded": N_("Invoice recorded"), "invoice.voided": N_("Invoice voided"),
            "payment.matched": N_("Payment matched to an invoice"),
            "statement.send": N_("Statement sent"), "statement.confirm": N_("Statement confirmed"),
            "statement.dispute": N_("Statement disputed"),
            # as statements' events were recorded before they went through their lifecycle
            "statement.sent": N_("Statement sent"), "statement.confirmed": N_("Statement confirmed"),
            "statement.disputed": N_("Statement disputed"),
            "invoice.reminded": N_("Payment reminder sent"),
            "shipping.released": N_("Shipping released despite an overdue balance"),
            "shipping.release_revoked": N_("Shipping release revoked"),
            "payment.unmatched": N_("Payment match taken back")},
    page_context={"order": _order_page, "shipment": _shipment_page},
    story=_story,
))


def init_app(app) -> None:
    """Attach the receivables pages and tasks."""
    from . import models, notices, signals, tasks, views  # noqa: F401  (tables, mail, the hold, reminders, routes)
    from . import export_views, statement_views  # noqa: F401  (statements, the accounting export)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..receivables import <name>`.
_PUBLIC = {"Invoice": "models", "PaymentMatch": "models", "Statement": "models",
           "account": "settlement", "accounts": "settlement", "position": "settlement",
           "positions": "settlement", "due_date": "settlement", "in_firm_currency": "settlement",
           "AGEING_BUCKETS": "settlement", "AGEING_TITLES": "settlement"}
__all__ = ["bp", "DOMAIN", "init_app", "FINANCE", "RECORDERS", "FINANCE_ROLE_CHOICES", "may_see_receivables",
           *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
