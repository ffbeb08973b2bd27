"""The server side of the outbox (docs/architecture.md, the offline path): device credentials, Idempotency-Key, fingerprints,
stored answers and conflicts.

An offline-capable view is decorated with `offline_capable`. A plain form post (session cookie and
CSRF token) goes through the view as before. A replay from the outbox carries
`Authorization: Device <id>.<secret>`, `Idempotency-Key`, `X-Actor` (the person who recorded it on a
shared phone) and `X-Recorded-At` (the phone's clock), and no cookie; it gets JSON, never a redirect.
"""
import functools
import hashlib
import json
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .. import background
from ..auth.models import User, hash_secret
from ..capabilities import CAPABILITY_ARGS, redact, subject
from ..extensions import csrf, db
from ..inputs import optional_row_id
from ..photos import MAX_PHOTOS, save_photos
from ..statemachine import TransitionError
from ..uploads import UploadError, sha256_of
from ..wallclock import utcnow
from .models import IdempotencyRecord, SyncConflict, SyncDevice, SyncDeviceMember

KEY_MAX_LENGTH = 64


def problem(status: int, title: str, detail: str = "", **extra):
    """An RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem_json() -> bool:
    """Whether this request came from the outbox (also before the view knew: a 413 or a CSRF
    failure is raised first), so that every answer to it is problem+json."""
    if g.get("replay"):
        return True
    from flask import has_request_context
    if not has_request_context():
        return False
    authorization = (request.headers.get("Authorization") or "").strip()
    return authorization.startswith("Device ") or authorization == "Link"


def is_replay() -> bool:
    """Whether this request is an outbox replay (answer JSON, never a redirect)."""
    return bool(g.get("replay"))


def parse_device_credential(header: str | None) -> SyncDevice | None:
    """The device an `Authorization: Device <id>.<secret>` header names, if the secret matches."""
    if not header or not header.startswith("Device "):
        return None
    raw_id, _dot, secret = header[len("Device "):].strip().partition(".")
    device_id = optional_row_id(raw_id)
    if device_id is None or not secret:
        return None
    device = db.session.get(SyncDevice, device_id)
    if device is None or not secrets.compare_digest(device.secret_hash, hash_secret(secret)):
        return None
    return device


def new_device(user: User, label: str) -> tuple[SyncDevice, str]:
    """Create a device credential for this browser; the secret is shown once, only its hash is kept."""
    secret = secrets.token_urlsafe(32)
    device = SyncDevice(secret_hash=hash_secret(secret), label=label[:200], created_by_id=user.id)
    db.session.add(device)
    db.session.flush()
    return device, secret


def enrol(device: SyncDevice, user: User) -> None:
    """Let device's replays act for user (who has just proved who they are on it)."""
    exists = db.session.scalar(db.select(SyncDeviceMember.id).where(
        SyncDeviceMember.device_id == device.id, SyncDeviceMember.user_id == user.id))
    if exists is None:
        db.session.add(SyncDeviceMember(device_id=device.id, user_id=user.id))
        db.session.flush()


def action() -> tuple[str, int | None]:
    """What this request acts on, with no credential in it: the endpoint's name and its URL values,
    a capability token replaced by the object it stands for ("shipping.courier_problem link=12",
    "production.report work_order=5"), and the AccessLink's id when it came through one.

    Stored in idempotency records and conflicts instead of the path: `/c/<token>/…` opens a live
    link, so a copy of the database must not hold it."""
    parts, link_id = [request.endpoint or "?"], None
    for name, value in (request.view_args or {}).items():
        if name not in CAPABILITY_ARGS:
            parts.append(f"{name}={str(value)[:40]}")
            continue
        kind, object_id = subject(db.session, request.endpoint, name, str(value))
        parts.append(f"{kind}={object_id if object_id is not None else '?'}")
        if kind == "link":
            link_id = object_id
    return " ".join(parts)[:300], link_id


def fingerprints(described_action: str) -> tuple[str, str]:
    """(current, legacy) SHA-256 over what the action is, the parsed fields and each file's SHA-256
    (not the raw multipart body, whose boundary changes with every send).

    The current one names the action (no token); the legacy one hashes the path, as records stored
    before the upgrade did, so that a replay in flight across the upgrade still matches its record."""
    fields = {key: values for key, values in request.form.to_dict(flat=False).items() if key != "csrf_token"}
    files = {}
    for key, storage in request.files.items(multi=True):
        files.setdefault(key, []).append(sha256_of(storage))

    def digest(material: dict) -> str:
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return (digest({"action": described_action, "fields": fields, "files": files}),
            digest({"path": request.path, "fields": fields, "files": files}))


def _recorded_at() -> datetime | None:
    """The phone's clock when the action was recorded, if it sent a sane one."""
    value = request.headers.get("X-Recorded-At", "")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    # A phone's clock may be wrong; a time in the future or years back is not believed.
    now = utcnow()
    if not now - timedelta(days=365) <= moment <= now + timedelta(minutes=5):
        return None
    return moment


def recorded_at() -> datetime | None:
    """When the phone recorded the replayed action (None for a live form post)."""
    return g.get("recorded_at")


def _stored_answer(record: IdempotencyRecord):
    response = current_app.response_class(record.body, status=record.status_code,
                                          content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _conflict(key: str, device: SyncDevice | None, actor: User | None, message: str,
              described_action: str, link_id: int | None):
    """Keep the action the server can no longer apply, with its data, and say so (409). Through a
    link only a few an hour: a used or dead link must not take unlimited writes with photos."""
    if link_id is not None:
        wait = _conflicts_wait(link_id)
        if wait:
            from ..ratelimit import too_many
            return too_many(wait)
    files = [{"field": name, "filename": storage.filename or "", "sha256": sha256_of(storage)}
             for name, storage in request.files.items(multi=True)]
    # A scanned or typed value may itself be a link (/c/…, /w/…): kept without its token.
    fields = {k: [redact(v) for v in values] for k, values in request.form.to_dict(flat=False).items()
              if k != "csrf_token"}
    conflict = SyncConflict(key=key, endpoint=described_action, link_id=link_id,
                            device_id=device.id if device else None,
                            actor_id=actor.id if actor else None,
                            fields=json.dumps(fields, ensure_ascii=False), files=json.dumps(files),
                            message=message, recorded_at=g.get("recorded_at"))
    db.session.add(conflict)
    db.session.flush()
    # Keep the photos too: once the phone discards the entry they exist nowhere else. One that is
    # not a fit image is left out (its name and SHA-256 stay in `files`), and no more than a form
    # takes are kept: a dead link must not be a free photo store.
    for storage in [storage for _name, storage in request.files.items(multi=True)][:MAX_PHOTOS]:
        storage.stream.seek(0)
        try:
            save_photos([storage], "sync_conflict", conflict.id, actor)
        except UploadError:
            pass
    return problem(409, _("This can no longer be applied"), message, conflict=conflict.id)


def _conflicts_wait(link_id: int) -> int | None:
    """Seconds until this link may take another conflict, or None (RATE_LIMIT_CONFLICTS_PER_LINK)."""
    limit, seconds = (int(v) for v in current_app.config["RATE_LIMIT_CONFLICTS_PER_LINK"])
    since = utcnow() - timedelta(seconds=seconds)
    recent = db.select(SyncConflict.created_at).where(
        SyncConflict.link_id == link_id, SyncConflict.created_at >= since)
    times = db.session.scalars(recent.order_by(SyncConflict.created_at.desc()).limit(limit)).all()
    if len(times) < limit:
        return None
    return max(1, int((times[-1] + timedelta(seconds=seconds) - utcnow()).total_seconds()) + 1)


def _as_problem(error: HTTPException):
    """Turn an abort() inside a replayed view into problem+json, in the user's language."""
    from ..errors import _messages
    message = _messages().get(error.code, error.name)
    return problem(error.code or 500, message, message)


def offline_capable(view=None, *, link: bool = False):
    """Accept outbox replays on this view as well as plain form posts (see the module docstring).

    With link=True the view is a customer or courier link page: the token in its URL is the whole
    credential, so a replay says `Authorization: Link` and names no device and no person."""
    if view is None:
        return functools.partial(offline_capable, link=link)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        authorization = (request.headers.get("Authorization") or "").strip()
        is_link = link and authorization == "Link"
        if not (authorization.startswith("Device ") or is_link):
            # A plain form post (any other Authorization, e.g. a proxy's Basic, is not a replay).
            csrf.protect()
            return view(*args, **kwargs)
        # A replay: no cookie is involved, so no cross-site request can forge it; CSRF is waived
        # (a page elsewhere cannot send an Authorization header here: no CORS is granted).
        g.replay = True
        if is_link:
            return _replay(view, args, kwargs, device=None, actor=None)
        device = parse_device_credential(authorization)
        if device is None:
            return problem(401, _("This phone is not known to the server"),
                           _("Log in on this phone again, then send the waiting actions."))
        if device.is_revoked:
            return problem(403, _("This phone was locked out"),
                           _("An administrator revoked this phone. Its waiting actions stay on it; "
                             "ask the office to record them."), reason="device_revoked")
        actor_id = optional_row_id(request.headers.get("X-Actor"))
        actor = db.session.get(User, actor_id) if actor_id is not None else None
        member = actor is not None and db.session.scalar(db.select(SyncDeviceMember.id).where(
            SyncDeviceMember.device_id == device.id, SyncDeviceMember.user_id == actor.id))
        if not member or not actor.active:
            return problem(403, _("This person may not act on this phone"),
                           _("Only people who logged in or switched in on this phone can record on it."),
                           reason="actor_not_enrolled")
        device.last_seen_at = utcnow()
        g._login_user = actor  # Flask-Login's current_user for this request only; no session is touched
        return _replay(view, args, kwargs, device=device, actor=actor)

    csrf.exempt(wrapper)
    return wrapper


def _replay(view, args, kwargs, device: SyncDevice | None, actor: User | None):
    """Apply a replay once: answer a repeat from its stored record, keep a conflict, store the answer."""
    g.csrf_valid = True  # tells the forms' own CSRF check that this request needs none
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        return problem(400, _("Idempotency-Key missing"), _("Every replay needs an Idempotency-Key."))
    described_action, link_id = action()
    print_, legacy_print = fingerprints(described_action)
    prints = (print_, legacy_print)
    # A repeat is answered from the stored record. Two sends at once: SQLite serialises writers
    # (BEGIN IMMEDIATE); on PostgreSQL the loser fails on the unique key when it stores its record,
    # rolls back and answers the winner's record (below).
    record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    if record is not None:
        # Keys are scoped to their device (or to link replays): another phone's key is not an answer.
        if record.fingerprint not in prints or record.device_id != (device.id if device else None):
            return problem(422, _("Idempotency-Key reused"),
                           _("This key was already used for a different action."))
        return _stored_answer(record)
    g.recorded_at = _recorded_at()
    try:
        response = current_app.make_response(view(*args, **kwargs))
    except TransitionError as error:
        db.session.rollback()
        if error.status != 409:
            g.rollback = True
            return problem(error.status, _(error.message))
        try:
            response = _conflict(key, device, actor, _(error.message), described_action, link_id)
        except IntegrityError:
            # The rollback above let a concurrent send of the same key store this conflict (and its
            # answer) first; answer what it stored rather than a 500 (tests/test_sync.py).
            return _answer_of_concurrent_send(key, prints)
    except HTTPException as error:
        db.session.rollback()
        g.rollback = True
        return _as_problem(error)
    if response.status_code >= 300 and response.status_code != 409:
        # Nothing was applied (bad input, no permission): nothing to remember, nothing kept.
        db.session.rollback()
        g.rollback = True
        return response
    record = IdempotencyRecord(key=key, fingerprint=print_, endpoint=described_action,
                               device_id=device.id if device else None, actor_id=actor.id if actor else None,
                               status_code=response.status_code,
                               content_type=response.content_type, body=response.get_data(as_text=True),
                               recorded_at=g.get("recorded_at"))
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        # The same key was applied by a concurrent request (PostgreSQL waited for it to commit).
        return _answer_of_concurrent_send(key, prints)
    return response


def _answer_of_concurrent_send(key: str, prints: tuple[str, str]):
    """Undo this request's work and answer what a concurrent send of the same key stored."""
    db.session.rollback()
    g.rollback = True
    record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    if record is None or record.fingerprint not in prints:
        # Not a conflict: nothing is wrong with the action, so the phone tries again (503).
        return problem(503, _("The same action arrived twice at once"), _("Send it again."))
    return _stored_answer(record)


def invalid(form):
    """The JSON answer to a replay whose fields do not pass the form (422, the messages per field)."""
    # Keyed by each field's posted name ("p-good", not "good"): the names the outbox stored the
    # entry's fields under, and the key the photo errors already use. Form-wide errors (key None) go
    # under "form".
    errors = {(form[name].name if name in form else "form"): [str(e) for e in messages]
              for name, messages in form.errors.items()}
    detail = " ".join(message for messages in errors.values() for message in messages)
    return problem(422, _("Please correct the marked fields."), detail, errors=errors)


def refused_upload(form, error):
    """The JSON answer to a replay whose photo was refused: nothing of it is kept (rolled back)."""
    g.rollback = True
    db.session.rollback()
    return problem(422, _("Please correct the marked fields."), str(error),
                   errors={form.photos.name: [str(error)]})


def applied(message: str, status: int = 201, **data):
    """The JSON answer to a replay that was applied."""
    response = jsonify({"status": "applied", "message": message, **data})
    response.status_code = status
    return response


def purge_old_records(days: int | None = None) -> int:
    """Forget idempotency keys older than the retention (at least 30 days)."""
    days = max(30, days or current_app.config["SYNC_KEY_RETENTION_DAYS"])
    result = db.session.execute(db.delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < utcnow() - timedelta(days=days)))
    return result.rowcount or 0


@background.periodic(background.crontab(minute="20", hour="19"))
def purge_old_records_nightly() -> None:
    """The worker forgets expired idempotency keys every night (19:20 UTC, 03:20 in China); the
    `flask purge-sync-keys` command does the same by hand."""
    count = purge_old_records()
    db.session.commit()
    logging.getLogger(__name__).info("forgot %s idempotency keys", count)
