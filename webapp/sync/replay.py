"""The server side of the outbox (docs/architecture.md, the offline path): device credentials, Idempotency-Key, fingerprints,
stored answers and conflicts.

An offline-capable view is decorated with `offline_capable`. A plain form post (session cookie and
CSRF token) goes through the view as before. A replay from the outbox carries
`Authorization: Device <id>.<secret>`, `Idempotency-Key`, `X-Actor` (the person who recorded it on a
shared phone) and `X-Recorded-At` (the phone's clock), and no cookie; it gets JSON, never a redirect.
The view itself does not branch on which of the two it serves: it returns an outcome
(sync/outcomes.py) that the decorator renders as a page or as JSON.
"""
import functools
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, flash, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from wtforms import FieldList, FormField

from .. import background
from ..auth import User, hash_secret
from ..capabilities import CAPABILITY_ARGS, redact, subject
from ..extensions import csrf, db, login_manager
from ..htmx import see_other
from ..inputs import optional_row_id
from ..photos import MAX_PHOTOS, save_photos
from ..problems import problem, wants_problem_json  # noqa: F401  (kept importable from here)
from ..statemachine import TransitionError
from ..uploads import UploadError, sha256_of
from ..wallclock import utcnow
from .models import IdempotencyRecord, SyncConflict, SyncDevice, SyncDeviceMember
from .outcomes import OUTCOMES, Applied, Conflict, Invalid, run_view

KEY_MAX_LENGTH = 64
# The problem type of a key sent again with a different action (the API documents it).
PROBLEM_KEY_REUSED = "/api/v1/problems/idempotency-key-reused"




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
    conflict = SyncConflict(key=key, credential=f"device:{device.id}" if device else "link",
                            endpoint=described_action, link_id=link_id,
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


@dataclass
class OutboxCredential:
    """What an `Authorization: Device …` header proves: the phone's outbox device and the person it
    acts for (X-Actor), or the problem+json answer that refuses it."""

    device: SyncDevice | None = None
    actor: User | None = None
    refusal: object = None  # a problem() response when the credential does not hold


def outbox_credential() -> OutboxCredential | None:
    """This request's outbox credential, checked once per request (cached on g.outbox_credential)."""
    if "outbox_credential" in g:
        return g.outbox_credential  # None while it is being checked (see below)
    # While the credential is checked, a refusal's words ask for the language, which asks Flask-Login
    # for current_user, whose request loader asks here again: it finds None (nobody) instead of
    # checking once more without end.
    g.outbox_credential = None
    g.outbox_credential = credential = _check_outbox_credential()
    return credential


def _check_outbox_credential() -> OutboxCredential:
    device = parse_device_credential((request.headers.get("Authorization") or "").strip())
    if device is None:
        return OutboxCredential(refusal=problem(401, _("This phone is not known to the server"),
                                                _("Log in on this phone again, then send the waiting actions.")))
    if device.is_revoked:
        return OutboxCredential(device, refusal=problem(
            403, _("This phone was locked out"),
            _("An administrator revoked this phone. Its waiting actions stay on it; ask the office to record them."),
            reason="device_revoked"))
    actor_id = optional_row_id(request.headers.get("X-Actor"))
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    member = actor is not None and db.session.scalar(db.select(SyncDeviceMember.id).where(
        SyncDeviceMember.device_id == device.id, SyncDeviceMember.user_id == actor.id))
    if not member or not actor.active:
        return OutboxCredential(device, refusal=problem(
            403, _("This person may not act on this phone"),
            _("Only people who logged in or switched in on this phone can record on it."),
            reason="actor_not_enrolled"))
    return OutboxCredential(device, actor)


def _replay_kind() -> str | None:
    """"device" or "link" when this request is an outbox replay to an offline-capable view that takes
    that credential, else None (a plain form post, whatever other Authorization it carries)."""
    view = current_app.view_functions.get(request.endpoint or "")
    accepts = getattr(view, "offline_capable", None)
    authorization = (request.headers.get("Authorization") or "").strip()
    if accepts is None:
        return None
    if authorization.startswith("Device ") and accepts == "device":
        return "device"
    if authorization == "Link" and accepts == "link":
        return "link"
    return None


@login_manager.request_loader
def load_replay_actor(_request):
    """Flask-Login's user for an outbox replay (no cookie, no session): the person the phone's
    credential acts for. Only on offline-capable views: the credential opens nothing else."""
    if _replay_kind() != "device":
        return None
    credential = outbox_credential()
    if credential is None:
        return None  # asked while the credential is being checked: nobody yet
    return credential.actor if credential.refusal is None else None


def offline_capable(view=None, *, link: bool = False):
    """Accept outbox replays on this view as well as plain form posts (see the module docstring), and
    render the view's outcome (sync/outcomes.py) as a page or as JSON.

    With link=True the view is a customer or courier link page: the token in its URL is the whole
    credential, so a replay says `Authorization: Link` and names no device and no person. Put it
    above any login decorator (check_decorator_order refuses the app otherwise): its answers to a bad
    credential must come first."""
    if view is None:
        return functools.partial(offline_capable, link=link)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        kind = _replay_kind()
        if kind is None:
            # A plain form post (any other Authorization, e.g. a proxy's Basic, is not a replay).
            csrf.protect()
            return render_for_browser(run_view(view, args, kwargs))
        # A replay: no cookie is involved, so no cross-site request can forge it; CSRF is waived
        # (a page elsewhere cannot send an Authorization header here: no CORS is granted).
        g.replay = True
        if kind == "link":
            return _replay(view, args, kwargs, device=None, actor=None)
        credential = outbox_credential()
        if credential.refusal is not None:
            return credential.refusal
        credential.device.last_seen_at = utcnow()
        g.outbox_device = credential.device
        # current_user is the credential's person through Flask-Login's request loader (above).
        return _replay(view, args, kwargs, device=credential.device, actor=credential.actor)

    wrapper.offline_capable = "link" if link else "device"
    wrapper.offline_wrapper = wrapper
    csrf.exempt(wrapper)
    return wrapper


def check_decorator_order(app) -> None:
    """Refuse to start when a decorator was put above offline_capable: a login check above it would
    answer a replay with a redirect to the login page, which the outbox retries for ever."""
    for endpoint, view in app.view_functions.items():
        inner = getattr(view, "offline_wrapper", None)
        if inner is not None and inner is not view:
            raise RuntimeError(f"{endpoint}: @offline_capable must be the outermost decorator (under the route)")


def render_for_browser(outcome):
    """The page for a plain form post: a redirect after an applied action, the form again, an error."""
    if not isinstance(outcome, OUTCOMES):
        return outcome  # a response of the view's own (e.g. the scanner's JSON for its fetch)
    if isinstance(outcome, Applied):
        if outcome.page is not None:
            return outcome.page()
        flash(outcome.message)
        return see_other(outcome.redirect)
    if isinstance(outcome, Invalid):
        if outcome.rollback:
            _roll_back()
        return outcome.page()
    _roll_back()
    if outcome.page is not None:
        return outcome.page()
    raise TransitionError(outcome.status, outcome.message)  # the error page, with the message


def render_for_replay(outcome):
    """The JSON for a replay: 201 applied, 422 with the messages per field, a problem; a Conflict is
    raised as the TransitionError _replay keeps as a conflict."""
    if not isinstance(outcome, OUTCOMES):
        return outcome
    if isinstance(outcome, Applied):
        return applied(outcome.message, **outcome.data)
    if isinstance(outcome, Conflict):
        raise TransitionError(outcome.status, outcome.message)
    _roll_back()
    if isinstance(outcome, Invalid):
        return invalid(outcome.form, outcome.errors)
    if outcome.json is not None:
        return outcome.json()
    return problem(outcome.status, outcome.message, **({"reason": outcome.reason} if outcome.reason else {}))


def _roll_back() -> None:
    """Nothing of this request is kept (the commit at the edge is skipped: transaction.py)."""
    g.rollback = True
    db.session.rollback()


def _replay(view, args, kwargs, device: SyncDevice | None, actor: User | None):
    """Apply a replay once: answer a repeat from its stored record, keep a conflict, store the answer."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        return problem(400, _("Idempotency-Key missing"), _("Every replay needs an Idempotency-Key."))
    described_action, link_id = action()
    print_, legacy_print = fingerprints(described_action)
    prints = (print_, legacy_print)
    # A repeat is answered from the stored record. Two sends at once: SQLite serialises writers
    # (BEGIN IMMEDIATE); on PostgreSQL the loser fails on the unique key when it stores its record,
    # rolls back and answers the winner's record (below).
    credential = f"device:{device.id}" if device else "link"
    found = stored_answer(credential, key, prints)
    if found is not None:
        return found
    g.recorded_at = _recorded_at()
    try:
        response = current_app.make_response(render_for_replay(run_view(view, args, kwargs)))
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
            return _answer_of_concurrent_send(credential, key, prints)
    except HTTPException as error:
        db.session.rollback()
        g.rollback = True
        return _as_problem(error)
    if response.status_code >= 300 and response.status_code != 409:
        # Nothing was applied (bad input, no permission): nothing to remember, nothing kept.
        db.session.rollback()
        g.rollback = True
        return response
    return remember(credential, key, print_, described_action, response, prints=prints,
                    device_id=device.id if device else None, actor_id=actor.id if actor else None)


def stored_answer(credential: str, key: str, prints: tuple[str, ...]):
    """The stored answer to a repeat of key under this credential, a 422 problem when the key was
    used for a different action, or None when the key is new (the outbox and the API alike)."""
    record = db.session.scalar(db.select(IdempotencyRecord).where(
        IdempotencyRecord.credential == credential, IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.fingerprint not in prints:
        return problem(422, _("Idempotency-Key reused"), _("This key was already used for a different action."),
                       type=PROBLEM_KEY_REUSED)
    return _stored_answer(record)


def remember(credential: str, key: str, print_: str, described_action: str, response, *,
             prints: tuple[str, ...] | None = None, device_id: int | None = None, actor_id: int | None = None):
    """Store the answer to key in the request's transaction (flushed here); returns the response, or
    the stored answer of a concurrent request that stored the same key first."""
    record = IdempotencyRecord(key=key, credential=credential, fingerprint=print_, endpoint=described_action,
                               device_id=device_id, actor_id=actor_id, status_code=response.status_code,
                               content_type=response.content_type, body=response.get_data(as_text=True),
                               recorded_at=g.get("recorded_at"))
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        # The same key was applied by a concurrent request (PostgreSQL waited for it to commit).
        return _answer_of_concurrent_send(credential, key, prints or (print_,))
    return response


def _answer_of_concurrent_send(credential: str, key: str, prints: tuple[str, ...]):
    """Undo this request's work and answer what a concurrent send of the same key stored."""
    db.session.rollback()
    g.rollback = True
    record = db.session.scalar(db.select(IdempotencyRecord).where(
        IdempotencyRecord.credential == credential, IdempotencyRecord.key == key))
    if record is None or record.fingerprint not in prints:
        # Not a conflict: nothing is wrong with the action, so the phone tries again (503).
        return problem(503, _("The same action arrived twice at once"), _("Send it again."))
    return _stored_answer(record)


def invalid(form, more_errors: dict | None = None):
    """The JSON answer to a replay whose fields do not pass the form (422, the messages per field)."""
    # Keyed by each field's posted name ("p-good", not "good"): the names the outbox stored the
    # entry's fields under, and the key the photo errors already use. Form-wide errors (key None) go
    # under "form". A table of lines (a FieldList) gives each line's fields under their own names.
    errors = dict(more_errors or {})
    for field in form:
        errors.update(posted_errors(field))
    if form.form_errors:
        errors["form"] = [str(e) for e in form.form_errors]
    detail = " ".join(message for messages in errors.values() for message in messages)
    return problem(422, _("Please correct the marked fields."), detail, errors=errors)


def posted_errors(field) -> dict[str, list[str]]:
    """A field's messages keyed by posted name; a FieldList's or FormField's by each inner field's."""
    if isinstance(field, (FieldList, FormField)):
        inner = field.entries if isinstance(field, FieldList) else list(field.form)
        found = {}
        for sub in inner:
            found.update(posted_errors(sub))
        return found
    return {field.name: [str(e) for e in field.errors]} if field.errors else {}


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
