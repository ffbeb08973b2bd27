"""Per-user API tokens: a bearer credential for the firm's other systems, stored only as a hash."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

# What a token may do: "read" (GET only) or "write" (read and the documented writes). Either way it
# acts with its owner's roles and scope, never more.
SCOPES = ("read", "write")


class ApiToken(db.Model):
    """One API token of one user: shown once when made, kept as its SHA-256, revocable."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(10), default="read")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, shown in the list so its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def may_write(self) -> bool:
        """Whether the token was made for writes as well as reads."""
        return self.scope == "write"

    def live(self, now: datetime) -> bool:
        """Whether the token still opens the API (not revoked, not expired)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
