"""One place that turns a stored key (a state, kind, condition, priority, role...) into the words a
person reads, translated. Pages and mails never show a key itself: they call label(key, kind)
(the `label` and `state` template filters)."""
from flask_babel import gettext, pgettext


def _tables() -> dict[str, dict]:
    """Every key set with its labels, by name (the machines' names for states)."""
    from .admin.forms import ROLE_LABELS
    from .aftersales import lifecycle as aftersales
    from .costing.forms import CATEGORY_LABELS
    from .orders import lifecycle as orders
    from .orders.forms import METHOD_CHOICES, PAYMENT_KIND_LABELS, VERDICT_LABELS
    from .production import lifecycle as production
    from .production.forms import KIND_LABELS, SEVERITY_LABELS
    from .requirements import lifecycle as requirements
    from .requirements.forms import PRIORITY_CHOICES
    from .shipping import lifecycle as shipping
    from .shipping.forms import CONDITION_CHOICES
    return {
        "order": orders.STATE_LABELS, "requirement": requirements.STATE_LABELS,
        "work_order": production.STATE_LABELS, "shipment": shipping.STATE_LABELS,
        "return_case": shipping.RETURN_LABELS, "follow_up": aftersales.FOLLOW_UP_LABELS,
        "ticket": aftersales.TICKET_LABELS, "survey": aftersales.SURVEY_LABELS,
        "verdict": VERDICT_LABELS, "role": ROLE_LABELS, "condition": dict(CONDITION_CHOICES),
        "priority": dict(PRIORITY_CHOICES), "method": dict(METHOD_CHOICES), "anomaly_kind": KIND_LABELS,
        "severity": SEVERITY_LABELS, "category": CATEGORY_LABELS, "payment_kind": PAYMENT_KIND_LABELS,
    }


def default_unit() -> str:
    """The unit a new record offers, in the user's language ("件", "pcs"): units are the firm's data,
    typed freely, but the suggestion must read right in Chinese."""
    return pgettext("unit", "pcs")


# Audit actions are named "<machine>.<transition>"; a few prefixes name their machine differently.
ACTION_PREFIXES = {"return": "return_case"}


def label(key: str | None, kind: str) -> str:
    """The translated label of key in the key set kind (the key itself if it has none: old data)."""
    if key is None:
        return "—"
    text = _tables().get(kind, {}).get(key)
    if text is None:
        return key
    if isinstance(text, tuple):  # NP_(context, message)
        return pgettext(*text)
    return gettext(text) if isinstance(text, str) else str(text)  # N_ marks plain str, _l lazy ones


def state_label(status: str | None, kind: str = "order") -> str:
    """The translated label of a status of kind (a machine's name, or an audit action such as
    "ticket.opened" whose status is the ticket's), or of a review verdict."""
    machine = kind.split(".", 1)[0]
    machine = ACTION_PREFIXES.get(machine, machine)
    if machine == "order" and status in _tables()["verdict"]:
        return label(status, "verdict")
    return label(status, machine)
