"""What sync does when another domain tells it something happened (webapp/signals.py)."""
from .. import signals
from ..extensions import db
from .models import SyncDeviceMember


@signals.sessions_revoked.connect
def drop_offline_credentials(user, **_extra) -> None:
    """A person's sessions were all ended: the phones' offline credentials may no longer act for them
    either; what the phones still hold is refused (and stays visible there) until the person logs in
    there again."""
    db.session.execute(db.delete(SyncDeviceMember).where(SyncDeviceMember.user_id == user.id))
