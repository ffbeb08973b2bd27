"""The office's writes about phones that keep an outbox, each with its audit row."""
from .. import audit
from ..db_types import utcnow
from . import replay
from .models import SyncConflict, SyncDevice


def create_device(user, label: str) -> tuple[SyncDevice, str]:
    """Give a browser's outbox a device credential made by user; return the device and its secret."""
    device, secret = replay.new_device(user, label)
    audit.record("sync.device_created", device, actor=user, entity_type="sync_device", after={"label": device.label})
    return device, secret


def resolve_conflict(item: SyncConflict, user) -> None:
    """Mark a conflict settled by user, once (its data stays on record)."""
    if item.resolved_at is None:
        item.resolved_at, item.resolved_by_id = utcnow(), user.id
        audit.record("sync.conflict_resolved", item, actor=user, entity_type="sync_conflict")


def revoke_device(device: SyncDevice, admin) -> bool:
    """Lock a lost or stolen phone out, once; return whether it was live until now."""
    if device.revoked_at is not None:
        return False
    device.revoked_at, device.revoked_by_id = utcnow(), admin.id
    audit.record("sync.device_revoked", device, actor=admin, entity_type="sync_device")
    return True
