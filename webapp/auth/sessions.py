"""Login sessions (DeviceSession): one per logged-in browser, revocable one by one or all at once.

The request's login session is g.login_session; the outbox credential of a replay is another thing
(g.outbox_device, sync/replay.py)."""
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, signals
from ..errors import is_busy
from ..extensions import db, login_manager
from ..wallclock import utcnow
from . import bp
from .models import DeviceSession, LoginFailure, User, hash_secret


@login_manager.user_loader
def load_user(user_id: str):
    """Return the active person of this device's session, or None when it was revoked or nobody is
    switched in. The device session, which the cookie's secret proves, says who that is, not the
    person the cookie names (user_id): a request a shared phone sent before a switch and answered
    after it still names the person before; refused, it flashed "Please log in" into that old cookie,
    and its answer, landing after the switch's, put the old cookie back and logged the phone out."""
    device = current_login_session()
    if device is None or device.user is None or not device.user.active:
        return None
    return device.user


def current_login_session() -> DeviceSession | None:
    """Return this request's live login session (cached on g.login_session): this browser's login, a
    DeviceSession. Not the phone's outbox credential (sync.models.SyncDevice, g.outbox_device)."""
    if "login_session" in g:
        return g.login_session
    device = None
    device_id, secret = session.get("dsid"), session.get("dsk")
    if device_id and secret:
        candidate = db.session.get(DeviceSession, device_id)
        if (candidate is not None and not candidate.is_revoked
                and secrets.compare_digest(candidate.secret_hash, hash_secret(secret))
                and expiry(candidate) is None):
            device = candidate
    g.login_session = device
    return device


# How often a personal session's last use is written while it is being used (a GET commits nothing,
# so it is written on the side; once a minute is plenty for timeouts counted in hours).
ACTIVITY_GRANULARITY = timedelta(seconds=60)


def expiry(device: DeviceSession) -> str | None:
    """Why a person's login session has run out ("idle": unused for SESSION_IDLE_MINUTES;
    "absolute": logged in more than SESSION_ABSOLUTE_DAYS ago), or None while it may act. A floor
    phone belongs to the floor, not to a person: it has its own idle switch-out (floor.py) instead."""
    if device.is_floor:
        return None
    now = utcnow()
    config = current_app.config
    if now - device.created_at > timedelta(days=float(config["SESSION_ABSOLUTE_DAYS"])):
        return "absolute"
    if now - device.last_seen_at > timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])):
        return "idle"
    return None


@bp.before_app_request
def keep_or_end_session():
    """Before the view (so before any write lock): a login session that ran out is ended for good
    (revoked, so the devices list says why), and one in use has its last use kept, both written on
    the side in a short transaction of their own."""
    from ..transaction import short_write
    if request.endpoint == "static":
        return None  # asked first: reading the session would add Vary: Cookie to the immutable files
    device_id, secret = session.get("dsid"), session.get("dsk")
    if not device_id or not secret:
        return None
    device = current_login_session()
    now = utcnow()
    if device is None:
        candidate = db.session.get(DeviceSession, device_id)
        reason = None if candidate is None or candidate.is_revoked else expiry(candidate)
        if reason is not None and secrets.compare_digest(candidate.secret_hash, hash_secret(secret)):
            with short_write() as side:
                side.execute(db.update(DeviceSession).where(
                    DeviceSession.id == candidate.id, DeviceSession.revoked_at.is_(None))
                    .values(revoked_at=now, revoked_reason=f"expired_{reason}"))
        return None
    if not device.is_floor and device.last_seen_at <= now - ACTIVITY_GRANULARITY:
        try:
            with short_write() as side:
                side.execute(db.update(DeviceSession).where(DeviceSession.id == device.id)
                             .values(last_seen_at=now))
        except OperationalError as error:
            if not is_busy(error):
                raise
            return None  # the database is busy: the page matters more than the stamp, kept next minute
        set_committed_value(device, "last_seen_at", now)
    return None


def start(user: User) -> DeviceSession:
    """Log user in on this device with a new device session."""
    secret = secrets.token_urlsafe(32)
    device = DeviceSession(user=user, login_user=user, secret_hash=hash_secret(secret),
                           label=describe_device(request.user_agent.string))
    db.session.add(device)
    db.session.flush()
    language = session.get("lang")  # a language chosen on the login page outlives the login
    session.clear()
    session.permanent = True
    if language:
        session["lang"] = language
        user.locale = user.locale or language
    session["dsid"], session["dsk"] = device.id, secret
    # A CSRF token from the start: otherwise the first pages, fetched at once (the page and the
    # service worker keeping pages for offline use), each make one and the last cookie wins.
    generate_csrf()
    g.login_session = device
    login_user(user)
    audit.record("auth.login", user, actor=user)
    return device


def is_floor() -> bool:
    """Whether this request comes from a live floor device (a shared phone enrolled by a supervisor)."""
    device = current_login_session()
    return device is not None and device.is_floor


def start_floor(label: str, enrolled_by: User) -> DeviceSession:
    """Make this browser a floor device named label, with nobody switched in yet; whatever session
    it had before (a person's login, an older floor enrolment) ends."""
    previous = current_login_session()
    if previous is not None:
        previous.revoked_at, previous.revoked_reason = utcnow(), "floor_enrolled"
    secret = secrets.token_urlsafe(32)
    device = DeviceSession(user_id=None, login_user=enrolled_by, kind="floor", label=label,
                           secret_hash=hash_secret(secret))
    db.session.add(device)
    db.session.flush()
    language = session.get("lang")
    logout_user()
    session.clear()
    session.permanent = True
    if language:
        session["lang"] = language
    session["dsid"], session["dsk"] = device.id, secret
    generate_csrf()
    g.login_session = device
    audit.record("auth.floor_enrolled", device, actor=enrolled_by, entity_type="device_session",
                 after={"label": label, "user_agent": describe_device(request.user_agent.string)})
    return device


def switch_out(reason: str) -> User | None:
    """End the active worker's turn on this floor device (the phone stays enrolled); who it was."""
    device = current_login_session()
    person = device.user if device is not None else None
    if device is not None:
        device.user_id = None
    if person is not None:
        audit.record("auth.switch_out", person, actor=person, after={"reason": reason})
    logout_user()
    return person


def end_this(reason: str = "logout") -> None:
    """Log out this device only."""
    device = current_login_session()
    if device is not None:
        device.revoked_at, device.revoked_reason = utcnow(), reason
        if device.user is not None:
            audit.record("auth.logout", device.user, actor=device.user)
    logout_user()
    session.clear()


def revoke(device: DeviceSession, actor: User) -> None:
    """End one login session or floor phone (a lost phone), once: its next page is the login page."""
    if device.revoked_at is not None:
        return
    device.revoked_at = utcnow()
    device.revoked_reason = "floor_revoked" if device.is_floor else "revoked_by_admin"
    audit.record("device.revoked", device, actor=actor, entity_type="device_session",
                 after={"label": device.label, "user": device.user_id})


def end_all(user: User, reason: str, keep: DeviceSession | None = None) -> int:
    """Revoke every device session that acts as or was opened by user, except keep. A floor device
    belongs to the floor, not to the supervisor who enrolled it: it stays, and only loses user if
    they are the one switched in on it."""
    now = utcnow()
    devices = db.session.scalars(db.select(DeviceSession).where(
        db.or_(DeviceSession.user_id == user.id, DeviceSession.login_user_id == user.id),
        DeviceSession.revoked_at.is_(None))).all()
    count = 0
    for device in devices:
        if keep is not None and device.id == keep.id:
            continue
        if device.is_floor:
            if device.user_id == user.id:
                device.user_id = None
                count += 1
            continue
        device.revoked_at, device.revoked_reason = now, reason
        count += 1
    # The phones' offline credentials may no longer act for this person either: what they still hold
    # is refused (and stays visible on the phone) until the person logs in there again.
    signals.sessions_revoked.send(user)  # sync drops the offline credentials acting for them
    return count


def switch_to(person: User, how: str) -> None:
    """Make person the active one on this (shared) device; later actions are theirs."""
    device = current_login_session()
    before = device.user_id
    device.user_id = person.id
    device.last_seen_at = utcnow()  # the idle clock of a floor phone starts again (floor.py)
    login_user(person)
    audit.record("auth.switch", person, actor=person,
                 before={"user_id": before}, after={"user_id": person.id, "how": how})


def throttled(*keys: str, limit_factor: int = 1) -> bool:
    """Whether any key has failed too often recently (counted in the database). An address gets a
    larger allowance than a username: a whole office may share one."""
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    limit = current_app.config["LOGIN_THROTTLE_MAX_FAILURES"] * limit_factor
    for key in keys:
        count = db.session.scalar(db.select(db.func.count()).select_from(LoginFailure).where(
            LoginFailure.key == key, LoginFailure.at >= since))
        if count >= limit:
            return True
    return False


def note_failure(*keys: str) -> None:
    """Count a failed attempt against each key."""
    for key in keys:
        db.session.add(LoginFailure(key=key))


def clear_failures(*keys: str) -> None:
    """Forget failures after a success."""
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def describe_device(user_agent: str) -> str:
    """A short human label for a device from its user agent."""
    ua = user_agent or ""
    for needle, name in (("MicroMessenger", "WeChat"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                         ("Android", "Android"), ("Windows", "Windows"), ("Macintosh", "Mac"),
                         ("Linux", "Linux")):
        if needle in ua:
            return name
    return ua[:60] or "?"


def end_everywhere(user: User) -> int:
    """End every device session of user (this one is ended by the caller after); return how many."""
    count = end_all(user, "logout_everywhere")
    audit.record("auth.logout_everywhere", user, actor=user, after={"ended": count})
    return count


def change_password(user: User, new_password: str) -> int:
    """Set user's new password and log out their other devices; return how many were ended."""
    user.set_password(new_password)
    ended = end_all(user, "password_change", keep=current_login_session())
    audit.record("auth.password_change", user, actor=user, after={"other_devices_ended": ended})
    return ended
