"""Enrolling a phone's outbox, the list of pages it keeps offline, conflicts and device revocation."""
import json

from flask import current_app, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import registry
from ..auth import describe_device
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..permissions import requires
from ..photos import get_photo, photos_of, send_photo
from ..wallclock import utcnow
from . import bp, replay, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .models import SyncConflict, SyncDevice, SyncDeviceMember


def _member_list(device: SyncDevice) -> list[dict]:
    return [{"id": m.user_id, "name": m.user.name} for m in device.members if m.user.active]


@bp.post("/sync/enrol")
@login_required
def enrol():
    """Give this browser's outbox a device credential (once), and let it act for the person logged in
    now. The session and CSRF token prove who that is; later replays need only the credential."""
    device = replay.parse_device_credential(request.headers.get("Authorization"))
    secret = None
    if device is not None and device.is_revoked:
        return replay.problem(403, _("This phone was locked out"),
                              _("An administrator revoked this phone. Its waiting actions stay on it; "
                                "ask the office to record them."), reason="device_revoked")
    if device is None:
        device, secret = services.create_device(current_user, describe_device(request.user_agent.string))
    replay.enrol(device, current_user)
    db.session.refresh(device)
    body = {"device": device.id, "user": {"id": current_user.id, "name": current_user.name},
            "members": _member_list(device)}
    if secret is not None:
        body["secret"] = secret
    return jsonify(body)


@bp.get("/sync/manifest")
@login_required
def manifest():
    """The pages this phone keeps for use without signal: my work, the open work orders of the people
    on this phone, open packing lists, capped."""
    cap = int(current_app.config["SYNC_MANIFEST_CAP"])
    people = {current_user.id}
    device = replay.parse_device_credential(request.headers.get("Authorization"))
    if device is not None and not device.is_revoked:
        people |= {m.user_id for m in device.members}
    urls = [url_for("main.home"), url_for("pwa.outbox"), url_for("auth.switch"), url_for("scan.scan")]
    # Then what the domains have a phone keep (production's work orders, shipping's packing lists).
    urls += registry.offline_pages(current_user, people, cap - len(urls))
    return jsonify({"urls": urls[:cap], "generated_at": utcnow().isoformat()})


@bp.get("/sync/conflicts")
@login_required
@requires("sync.conflicts")
def conflicts():
    """Offline actions the server could no longer apply, with their data, for someone to settle."""
    items = db.session.scalars(db.select(SyncConflict).options(joinedload(SyncConflict.actor))
                               .order_by(SyncConflict.resolved_at.is_not(None), SyncConflict.id.desc())
                               .limit(200)).all()
    photos = photos_of("sync_conflict", [item.id for item in items])
    for item in items:
        item.field_items = [(k, ", ".join(v)) for k, v in json.loads(item.fields).items()]
        item.file_items = json.loads(item.files)
    return render("sync/conflicts.html", items=items, photos=photos)


@bp.get("/sync/conflicts/photos/<int:photo_id>")
@login_required
@requires("sync.conflicts")
def conflict_photo(photo_id: int):
    """A photo that came with an offline action that could not be applied."""
    return send_photo(get_photo(photo_id, ("sync_conflict",)))


@bp.post("/sync/conflicts/<int:conflict_id>/resolve")
@login_required
@requires("sync.conflicts")
def resolve_conflict(conflict_id: int):
    """Mark a conflict settled (its data stays on record)."""
    services.resolve_conflict(load(SyncConflict, conflict_id, "sync.conflicts"), current_user)
    return see_other(url_for("sync.conflicts"))


@bp.get("/sync/devices")
@login_required
@requires("admin.manage")
def devices():
    """Phones that keep an outbox, who acted on them, and the button to lock one out."""
    items = db.session.scalars(db.select(SyncDevice).options(
        joinedload(SyncDevice.created_by), joinedload(SyncDevice.members).joinedload(SyncDeviceMember.user))
        .order_by(SyncDevice.revoked_at.is_not(None), SyncDevice.last_seen_at.desc()).limit(300)).unique().all()
    return render("sync/devices.html", items=items)


@bp.post("/sync/devices/<int:device_id>/revoke")
@login_required
@requires("admin.manage")
def revoke_device(device_id: int):
    """Lock a lost or stolen phone out: its replays are refused from now on."""
    device = load(SyncDevice, device_id, "admin.manage")
    if services.revoke_device(device, current_user):
        flash(_("The phone is locked out. Actions it still sends are refused."))
    return see_other(url_for("sync.devices"))
