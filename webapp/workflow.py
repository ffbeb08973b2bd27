"""Apply a lifecycle transition: check it, change the status, write the audit event."""
from . import audit
from .statemachine import StateMachine, TransitionError  # noqa: F401  (re-exported for views)


def transition(obj, machine: StateMachine, name: str, actor=None, *, roles=None,
               actor_kind: str | None = None, actor_label: str | None = None,
               note: str | None = None, detail: dict | None = None, checked=None) -> str:
    """Move obj through machine's transition name as actor and record it; return the new status.

    Raises TransitionError (403 wrong role, 409 wrong state or a failed rule) and changes nothing
    then. The caller's changes that the target depends on must be made before calling; a caller
    that had to check before making them (the guard looks at the state before) passes checked=.
    """
    roles = roles if roles is not None else (actor.roles if actor is not None else set())
    move = checked if checked is not None else machine.check(obj, name, roles)
    before = obj.status
    obj.status = move.target_for(obj)
    audit.record(
        f"{machine.name}.{name}", obj, actor=actor, actor_kind=actor_kind,
        actor_label=actor_label, before={"status": before},
        after={"status": obj.status, **(detail or {})}, note=note,
    )
    return obj.status
