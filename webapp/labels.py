"""One place that turns a stored key (a state, kind, condition, priority, role...) into the words a
person reads, translated. Pages and mails never show a key itself: they call label(key, kind)
(the `label` and `state` template filters)."""
from flask_babel import gettext, pgettext

from . import registry


def _tables() -> dict[str, dict]:
    """Every key set with its labels, by name (the machines' names for states): what the domains
    registered (webapp/registry.py)."""
    return registry.label_tables()


def default_unit() -> str:
    """The unit a new record offers, in the user's language ("件", "pcs"): units are the firm's data,
    typed freely, but the suggestion must read right in Chinese."""
    return pgettext("unit", "pcs")


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
    # Audit actions are named "<machine>.<transition>"; a few prefixes name their machine differently.
    machine = registry.event_machine(kind.split(".", 1)[0])
    if machine == "order" and status in _tables()["verdict"]:
        return label(status, "verdict")
    return label(status, machine)
