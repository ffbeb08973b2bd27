"""What the reviews domain does on a schedule: remind each owner, once a day, of their improvement
actions due within two working days or overdue."""
import logging
from datetime import date
from itertools import groupby

from .. import audit, background
from ..extensions import db
from ..i18n import firm_today
from ..notify import Recipient, notify
from . import notices  # noqa: F401  (the messages notify() sends)
from .services import to_remind


def remind(today: date | None = None) -> list:
    """Mail each owner one message with their actions due soon or overdue that were not reminded
    today, and mark them reminded (a second run the same day mails nothing); return those actions.
    An owner without an address or no longer active is not mailed; the overdue list still shows them.
    The caller commits."""
    today = today or firm_today()
    actions = to_remind(today)
    for _owner_id, group in groupby(actions, key=lambda a: a.owner_id):
        mine = list(group)
        owner = mine[0].owner
        if owner is not None and owner.active and owner.email:
            notify("improvement.reminder", [Recipient.user(owner)], actions=mine, today=today)
        for action in mine:
            action.reminded_on = today
            audit.record("improvement.reminded", action, actor_kind="system",
                         after={"owner_id": action.owner_id, "due_date": action.due_date.isoformat()})
    return actions


@background.periodic(background.crontab(minute="45", hour="0"))
def remind_owners_daily() -> None:
    """The worker reminds the owners every morning (00:45 UTC, 08:45 in China)."""
    reminded = remind()
    db.session.commit()
    logging.getLogger(__name__).info("reminded owners of %s improvement actions", len(reminded))
