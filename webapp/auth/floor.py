"""Floor phones: a supervisor enrols a shared phone with a one-time code, and the phone then opens
only the switch screen and worker pages (docs/decisions.md, "Floor phones").

- The supervisor's page makes a FloorEnrolment: an 8-digit code to type on the phone and a QR of
  /enrol/<token>, both stored as hashes, single use, expiring in FLOOR_ENROL_MINUTES.
- Using it makes the phone a DeviceSession of kind "floor" with nobody active; it lasts until a
  supervisor locks it out (revoked: the next page is the login page again).
- guard() runs before every request of a floor device: with nobody switched in it sends every page
  but the switch screen there (remembering a worker page to continue to); with a worker it refuses
  office pages; after FLOOR_IDLE_MINUTES without use the worker is switched out.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, permissions, registry
from ..extensions import db
from ..transaction import memo, short_write
from ..wallclock import utcnow
from . import bp, sessions
from .models import DeviceSession, FloorEnrolment, User, hash_secret

CODE_DIGITS = 8
# How often (at most) a worker's use of a floor phone is written down for the idle clock.
ACTIVITY_GRANULARITY = timedelta(seconds=60)


def code_digest(code: str) -> str:
    """The stored form of an enrolment code: an HMAC under the app's secret key (a bare SHA-256 of
    eight digits would give a copy of the database every live code in a moment)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"floor-code:" + code.encode(), hashlib.sha256).hexdigest()


def normalise_code(raw: str | None) -> str | None:
    """The code as typed, without the spaces and dashes people put in; None unless 8 ASCII digits."""
    code = "".join((raw or "").split()).replace("-", "")
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def display_code(code: str) -> str:
    """The code in two groups of four, easier to read out and type."""
    return f"{code[:4]} {code[4:]}"


def issue(label: str, supervisor: User) -> tuple[FloorEnrolment, str, str]:
    """A new one-time enrolment (code and QR token, returned once, stored only as hashes); the
    supervisor's earlier unused codes stop working: the code on their screen is the one that works."""
    now = utcnow()
    for old in db.session.scalars(db.select(FloorEnrolment).where(
            FloorEnrolment.created_by_id == supervisor.id, FloorEnrolment.used_at.is_(None),
            FloorEnrolment.expires_at > now)):
        old.expires_at = now
    while True:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        if live_by_code(code) is None:  # two live codes never share digits
            break
    token = secrets.token_urlsafe(24)
    enrolment = FloorEnrolment(
        code_hash=code_digest(code), token_hash=hash_secret(token), label=label, created_by=supervisor,
        created_at=now, expires_at=now + timedelta(minutes=int(current_app.config["FLOOR_ENROL_MINUTES"])))
    db.session.add(enrolment)
    db.session.flush()
    audit.record("floor.code_issued", enrolment, actor=supervisor, entity_type="floor_enrolment",
                 after={"label": label, "expires_at": enrolment.expires_at.isoformat()})
    return enrolment, code, token


def live_by_code(code: str) -> FloorEnrolment | None:
    """The live enrolment with this code, if any."""
    return db.session.scalars(db.select(FloorEnrolment).where(
        FloorEnrolment.code_hash == code_digest(code), FloorEnrolment.used_at.is_(None),
        FloorEnrolment.expires_at > utcnow())).first()


def by_code(code: str) -> FloorEnrolment | None:
    """The enrolment with this code: a live one first, else the newest used or expired one (to say
    why it no longer works)."""
    return live_by_code(code) or db.session.scalars(db.select(FloorEnrolment).where(
        FloorEnrolment.code_hash == code_digest(code)).order_by(FloorEnrolment.id.desc()).limit(1)).first()


def by_token(token: str) -> FloorEnrolment | None:
    """The enrolment whose QR carries token (live or not), None for anything else."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(db.select(FloorEnrolment).where(FloorEnrolment.token_hash == hash_secret(token)))


def why_not(enrolment: FloorEnrolment | None) -> str | None:
    """Why this enrolment cannot make a floor phone (translated), or None when it can."""
    if enrolment is None:
        return _("There is no such code. Check the digits on the supervisor's screen.")
    if enrolment.used_at is not None:
        return used_message()
    if enrolment.expires_at <= utcnow():
        return _("This code has expired. Ask the supervisor for a new one.")
    return None


def used_message() -> str:
    """Why a used code is refused (translated)."""
    return _("This code was already used: a code makes one phone a floor phone. Ask the supervisor "
             "for a new one.")


def enrol(enrolment: FloorEnrolment) -> DeviceSession | None:
    """Use the enrolment once and make this browser its floor device; None if another phone used it
    first (the conditional update lets exactly one of two phones at once through, on any database)."""
    now = utcnow()
    taken = db.session.execute(db.update(FloorEnrolment).where(
        FloorEnrolment.id == enrolment.id, FloorEnrolment.used_at.is_(None), FloorEnrolment.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return None
    device = sessions.start_floor(enrolment.label, enrolment.created_by)
    enrolment.device_id = device.id
    return device


def too_many_attempts() -> int | None:
    """Count this enrolment attempt (once per request, whatever its phases); seconds to wait if this
    address, or everyone together, tried too often."""
    from .. import ratelimit
    kept = memo()
    if "floor_enrol_wait" not in kept:
        address = request.remote_addr or "?"
        per_address = current_app.config["RATE_LIMIT_FLOOR_ENROL"]
        everyone = current_app.config["RATE_LIMIT_FLOOR_ENROL_ALL"]
        kept["floor_enrol_wait"] = (ratelimit.hit(f"floor-enrol:{address}", int(per_address[0]), int(per_address[1]))
                                    or ratelimit.hit("floor-enrol:*", int(everyone[0]), int(everyone[1])))
    return kept["floor_enrol_wait"]


def login_or_floor_required(view):
    """Like login_required, but a floor phone with nobody switched in passes too (its scanner reads
    a badge's QR before anyone is on the phone); the view decides what such a phone may do."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        from flask_login import current_user
        from ..extensions import login_manager
        if current_user.is_authenticated or sessions.is_floor():
            return view(*args, **kwargs)
        return login_manager.unauthorized()
    return wrapped


def continue_to() -> str | None:
    """The worker page a floor phone was on its way to before the switch screen (taken once)."""
    target = session.pop("floor_next", None)
    if isinstance(target, dict):  # a label's page, kept by its row's id without its token
        for kind in registry.capability_tokens():
            if kind.return_endpoint and kind.kind in target:
                token = kind.value(db.session, target[kind.kind])
                return url_for(kind.return_endpoint, token=token) if token else None
        return None
    return target if isinstance(target, str) else None


def _remember_target(endpoint: str) -> None:
    """Keep where a phone nobody is using was going, for after the switch. The session cookie is
    signed, not encrypted, and a capability token is never stored (capabilities.py): a label's page
    is kept by its work order's id, other capability pages not at all."""
    from ..capabilities import CAPABILITY_ARGS
    arguments = request.view_args or {}
    if not any(name in CAPABILITY_ARGS for name in arguments):
        session["floor_next"] = request.full_path.rstrip("?")
    else:
        # A page the credential's domain registered to come back to (a work order's label page).
        kind = next((k for k in registry.capability_tokens() if k.return_endpoint == endpoint), None)
        row_id = kind.find(db.session, arguments["token"][:40]) if kind is not None else None
        if row_id is not None:
            session["floor_next"] = {kind.kind: row_id}


def opens(path: str) -> bool:
    """Whether a floor phone with a worker switched in opens this path of the app (for lists that
    link to pages: My work on a floor phone leaves out what would only be refused)."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path.split("?", 1)[0], method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return permissions.floor_allows(endpoint, someone_in=True)


def _is_navigation() -> bool:
    """Whether a person opened this page (not the service worker keeping pages in the background);
    a browser that sends no Sec-Fetch-Mode counts as a person."""
    return request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate" or request.headers.get("HX-Request") == "true"


def _mark_activity(device: DeviceSession) -> None:
    """Keep the idle clock of a worker who is using the phone (on the side: a GET commits nothing)."""
    now = utcnow()
    if device.last_seen_at > now - ACTIVITY_GRANULARITY:
        return
    with short_write() as side:
        side.execute(db.update(DeviceSession).where(DeviceSession.id == device.id).values(last_seen_at=now))
    set_committed_value(device, "last_seen_at", now)


def _end_idle_turn(device: DeviceSession) -> bool:
    """Switch the worker out after FLOOR_IDLE_MINUTES without use; whether that happened. Written on
    the side (a GET may find the phone idle), audited like a hand-back (sessions.switch_out)."""
    now = utcnow()
    idle = timedelta(minutes=int(current_app.config["FLOOR_IDLE_MINUTES"]))
    if device.last_seen_at > now - idle:
        return False
    person = device.user
    with short_write() as side:
        changed = side.execute(db.update(DeviceSession).where(
            DeviceSession.id == device.id, DeviceSession.user_id == device.user_id)
            .values(user_id=None, last_seen_at=now)).rowcount
        if changed and person is not None:
            side.add(audit.build("auth.switch_out", person, actor=person, after={"reason": "idle"}))
    set_committed_value(device, "user_id", None)
    set_committed_value(device, "last_seen_at", now)
    logout_user()  # this request too runs as nobody, even if it had already loaded the worker
    return True


@bp.app_context_processor
def floor_phone_helper() -> dict:
    """floor_phone() in templates: this request's floor device, or None (a person's own device)."""
    def floor_phone():
        device = sessions.current_login_session()
        return device if device is not None and device.is_floor else None
    return {"floor_phone": floor_phone}


@bp.before_app_request
def guard():
    """On a floor device: nobody switched in → the switch screen (then on to the worker page asked
    for); a worker switched in → worker pages only; idle too long → switched out."""
    endpoint = request.endpoint
    if endpoint == "static" or (endpoint or "").startswith(("pwa.", "tls.")):
        return None
    device = sessions.current_login_session()
    if device is None or not device.is_floor:
        return None
    person = device.user_id is not None
    if person:
        if _end_idle_turn(device):
            person = False
            if _is_navigation():
                flash(_("Nobody used this phone for %(n)s minutes, so it was handed back. Who is using it now?",
                        n=current_app.config["FLOOR_IDLE_MINUTES"]))
        elif _is_navigation() or request.method != "GET":
            _mark_activity(device)
    if permissions.floor_allows(endpoint, someone_in=person):
        return None
    if request.method == "GET" and _is_navigation():
        if not person and permissions.floor_allows(endpoint, someone_in=True):
            # A label scanned on a phone nobody is using: who are you, then on to that page (My work,
            # where a switch leads anyway, leaves a label scanned before waiting).
            if endpoint != "main.home":
                _remember_target(endpoint)
            return redirect(url_for("auth.switch"))
        if person:
            flash(_("This phone is a floor phone: it opens worker pages only. Use your own login for office pages."),
                  "error")
    return redirect(url_for("auth.switch"), code=303 if request.method != "GET" else 302)
