"""The words for each role (the roles themselves are auth.models.ROLES)."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Admin"), "sales": _l("Sales"), "operations": _l("Operations"),
    "production": _l("Production"), "purchasing": _l("Purchasing"), "warehouse": _l("Warehouse"),
    "qc": _l("QC"), "finance": _l("Finance"), "manager": _l("Manager"),
    "aftersales": _l("After-sales"), "worker": _l("Floor worker"), "courier": _l("Courier"),
}
