"""What shipping does on a schedule: escalate return cases whose current step is overdue."""
import logging
from datetime import datetime

from .. import audit, background
from ..auth import User
from ..extensions import db
from ..notify import Recipient, notify
from ..wallclock import utcnow
from . import notices  # noqa: F401  (the messages notify() sends)
from .returns import overdue, step_due


def managers() -> list:
    """Active managers with an address to tell."""
    people = db.session.scalars(db.select(User).where(User.active.is_(True), User.roles_csv.like("%manager%"))
                                .order_by(User.id)).all()
    return [person for person in people if "manager" in person.roles and person.email]


def escalate(now: datetime | None = None) -> list:
    """Tell the step's owner and the managers about every return case whose step is overdue, once per
    step (a later step may escalate again); return those cases. The caller commits."""
    now = now or utcnow()
    cases = overdue(now)
    bosses = managers()
    for case in cases:
        people = {person.id: person for person in bosses}
        if case.step_owner is not None and case.step_owner.email:
            people.setdefault(case.step_owner.id, case.step_owner)
        notify("return.overdue", [Recipient.user(person) for person in people.values()], case=case)
        case.escalated_at = now
        audit.record("return.escalated", case.order, actor_kind="system", entity_type="order",
                     after={"case": case.id, "status": case.status, "due_at": step_due(case).isoformat(),
                            "told": sorted(people)})
    return cases


@background.periodic(background.crontab(minute="*/15"))
def escalate_overdue_returns() -> None:
    """The worker escalates overdue return cases every quarter of an hour."""
    cases = escalate()
    db.session.commit()
    logging.getLogger(__name__).info("escalated %s overdue return cases", len(cases))
