"""People, their devices and failed logins."""
import hashlib
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

ROLES = (
    "admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "finance",
    "manager", "aftersales", "worker", "courier",
)


def _hash(value: str) -> str:
    # Tests may choose a cheaper method; production uses werkzeug's default (scrypt).
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(value, method=method) if method else generate_password_hash(value)


def _checked(stored_hash: str, candidate: str) -> bool:
    """check_password_hash, computed once per request: a write request's view runs twice (without,
    then with the write lock: transaction.py) and a slow hash must not run again under the lock."""
    from ..transaction import memo
    checks = memo().setdefault("password_checks", {})
    key = (stored_hash, candidate)
    if key not in checks:
        checks[key] = check_password_hash(stored_hash, candidate)
    return checks[key]


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest of a random secret (tokens are high-entropy; no salt needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class User(db.Model):
    """A person who logs in; may hold several roles."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(60), unique=True)
    employee_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    pin_hash: Mapped[str | None] = mapped_column(String(256))
    badge_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    roles_csv: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def roles(self) -> frozenset[str]:
        """The user's roles as a set."""
        return frozenset(r for r in self.roles_csv.split(",") if r)

    @roles.setter
    def roles(self, values) -> None:
        unknown = set(values) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        self.roles_csv = ",".join(r for r in ROLES if r in set(values))

    def set_password(self, password: str) -> None:
        """Store a hash of the password."""
        self.password_hash = _hash(password)

    def check_password(self, password: str) -> bool:
        """Return whether the password matches."""
        return _checked(self.password_hash, password)

    def set_pin(self, pin: str | None) -> None:
        """Store a hash of the worker-switch PIN (None removes it)."""
        self.pin_hash = _hash(pin) if pin else None

    def check_pin(self, pin: str) -> bool:
        """Return whether the PIN matches."""
        return bool(self.pin_hash) and _checked(self.pin_hash, pin)

    def new_badge(self) -> str:
        """Issue a new badge secret (printed as a QR) and return it; the old badge stops working."""
        secret = secrets.token_urlsafe(24)
        self.badge_hash = hash_secret(secret)
        return secret

    # Flask-Login protocol: the session is the device session, see auth.sessions.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:  # noqa: D401 - Flask-Login protocol
        return self.active

    def get_id(self) -> str:
        return str(self.id)


DEVICE_KINDS = ("personal", "floor")


class DeviceSession(db.Model):
    """One logged-in device; the active person on it may change (shared phones).

    A "floor" device was enrolled by a supervisor with a one-time code (FloorEnrolment): it belongs
    to the floor, not to a person, shows only worker pages, and has nobody active (user_id None)
    until a worker switches in with their PIN."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Who logged the device in (on a floor device: the supervisor who enrolled it); the active
    # person may differ after a worker switch.
    login_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(10), default="personal", server_default="personal")
    label: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    login_user: Mapped[User] = relationship(foreign_keys=[login_user_id])

    @property
    def is_revoked(self) -> bool:
        """Whether the device may no longer act."""
        return self.revoked_at is not None

    @property
    def is_floor(self) -> bool:
        """Whether this is a shared floor phone enrolled by a supervisor."""
        return self.kind == "floor"


class FloorEnrolment(db.Model):
    """A one-time code a supervisor shows on their screen to make a phone a floor device.

    Both ways in are stored as hashes only: the short code typed on the phone (an HMAC under the
    app's secret key, so a copy of the database cannot test codes offline) and the random token in
    the QR's URL (SHA-256). Single use, and expiring in minutes (FLOOR_ENROL_MINUTES)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device_session.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def is_live(self) -> bool:
        """Whether the code may still enrol a phone."""
        return self.used_at is None and self.expires_at > utcnow()


class LoginFailure(db.Model):
    """A failed login; counted per username and per address to throttle guessing.

    Kept in the database so that the limit holds across several gunicorn workers.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


EXTERNAL_PROVIDERS = ("wecom", "dingtalk")


class ExternalIdentity(db.Model):
    """A person's account at a sign-in provider (WeCom userid, DingTalk unionId), linked by an admin.

    Signing in through the provider finds the person by this row alone: an id nobody linked signs
    nobody in. One account per provider and person, and an account belongs to one person."""

    __table_args__ = (db.UniqueConstraint("provider", "external_id", name="uq_external_identity_account"),
                      db.UniqueConstraint("user_id", "provider", name="uq_external_identity_user_provider"))

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    linked_by: Mapped[User | None] = relationship(foreign_keys=[linked_by_id])
