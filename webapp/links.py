"""Customer links: scoped, expiring, revocable tokens stored only as hashes.

The token is an HMAC of a random per-link nonce under the app's secret key, so staff can show
the same link again (to copy into WeChat or print as a QR) while the database alone never
reveals it: the table holds the nonce and the token's SHA-256, never the token.
"""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import abort, current_app
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from . import audit, registry
from .db_types import UTCDateTime
from .extensions import db
from .wallclock import utcnow



class AccessLink(db.Model):
    """A link for someone without an account, bound to one object and one purpose."""

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def token(self) -> str:
        """The token in the URL, recomputed from the nonce and the secret key."""
        return _token_for(self.nonce)

    @property
    def url(self) -> str:
        """The absolute URL to send to the customer (public.open_link, built outside a request too)."""
        adapter = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
        return absolute(adapter.build("public.open_link", {"token": self.token}))

    @property
    def valid_days(self) -> int:
        """How many days the link was issued for, to tell the customer: rounded, never floored (a
        lifetime a few microseconds short of 14 days once read "13 days")."""
        return round((self.expires_at - self.created_at) / timedelta(days=1))

    @property
    def is_live(self) -> bool:
        """Whether the link still works."""
        return self.revoked_at is None and self.used_at is None and self.expires_at > utcnow()


def _token_for(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"access-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).rstrip(b"=").decode()  # 192 bits


def issue(purpose: str, object_id: int, days: int | None = None) -> AccessLink:
    """Create a link for purpose on object_id, revoking any live one for the same pair."""
    assert registry.link_purpose(purpose) is not None, purpose  # each domain registers its purposes
    revoke_all(purpose, object_id)
    nonce = secrets.token_hex(16)
    now = utcnow()  # one instant for both ends, so the lifetime is exactly the days asked for
    link = AccessLink(
        purpose=purpose, object_id=object_id, nonce=nonce,
        token_hash=hashlib.sha256(_token_for(nonce).encode()).hexdigest(),
        created_at=now, expires_at=now + timedelta(days=days or current_app.config["LINK_LIFETIME_DAYS"]),
    )
    db.session.add(link)
    db.session.flush()
    return link


def revoke_all(purpose: str, object_id: int) -> None:
    """Revoke every live link for purpose on object_id."""
    now = utcnow()
    for link in db.session.scalars(db.select(AccessLink).where(
            AccessLink.purpose == purpose, AccessLink.object_id == object_id,
            AccessLink.revoked_at.is_(None))):
        link.revoked_at = now


def renew(purpose: str, obj, user, *, event: str, revoke: bool = False, send=None) -> None:
    """Replace obj's link for purpose with a new one (send(obj) issues it and tells the customer,
    where given), or withdraw every live one; audited on obj as "<event>.link_renewed" or
    "<event>.link_revoked"."""
    if revoke:
        revoke_all(purpose, obj.id)
        audit.record(f"{event}.link_revoked", obj, actor=user)
        return
    if send is not None:
        send(obj)
    else:
        issue(purpose, obj.id)
    audit.record(f"{event}.link_renewed", obj, actor=user)


def current(purpose: str, object_id: int) -> AccessLink | None:
    """Return the newest live link for purpose on object_id, if any."""
    link = db.session.scalars(db.select(AccessLink).where(
        AccessLink.purpose == purpose, AccessLink.object_id == object_id,
    ).order_by(AccessLink.id.desc()).limit(1)).first()
    return link if link is not None and link.is_live else None


def resolve(token: str) -> AccessLink:
    """Return the live link for token; unknown, expired, used and revoked all give the same 404."""
    link = find(token)
    if link is None or not link.is_live:
        abort(404)
    return link


def find(token: str) -> AccessLink | None:
    """The link for token whether or not it is still live (for telling an outbox replay that its link
    was replaced from a token that never existed)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalars(db.select(AccessLink).where(
        AccessLink.token_hash == hashlib.sha256(token.encode()).hexdigest())).first()


def qr_svg(url: str) -> bytes:
    """Render url as a QR code in an SVG file (for an <img> or a download; inline in a page use
    webapp.qr.svg, which has no XML declaration)."""
    from . import qr
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + qr.svg(url).encode()


def public_base() -> str:
    """PUBLIC_URL, or (when it is not configured) the address this request came to."""
    from flask import has_request_context, request
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        base = request.host_url if has_request_context() else "http://localhost:8000"
    return base.rstrip("/")


def absolute(path: str) -> str:
    """Make a path absolute under PUBLIC_URL (for mail and QR codes)."""
    return public_base() + path
