"""The retention job for personal data (DESIGN.md §5.12, PIPL/GDPR): past the period the firm sets
(Settings → retention_years), photos are deleted (row, file and thumbnail in the storage) and the
customers' drawn signatures are erased with the address and browser they were made from.

What stays is the business record: that a delivery was received, by whom, what quantities, the SHA-256
of the delivery note and of the signed terms. The firm's seal image is not personal data and stays.
The app records no device location (Permissions-Policy allows it; no page asks for it), so there is
no location to erase.

Run daily by the background worker (a periodic task), or by hand or cron: `flask purge-personal-data`.
"""
import logging
from datetime import datetime

from . import background
from .extensions import db
from .firm import get_settings
from .orders import Countersignature
from .photos import Photo
from .projects import Acceptance
from .shipping import DeliveryReceipt
from .uploads import delete_stored
from .wallclock import utcnow

log = logging.getLogger(__name__)
# Rows per transaction: a firm's first run may find years of photos; small batches keep each commit
# short (SQLite holds its one write lock until the commit).
BATCH = 200


def cutoff(now: datetime | None = None, years: int | None = None) -> datetime:
    """The moment before which personal data is no longer kept: now minus the firm's period in years
    (29 February falls back to the 28th)."""
    now = now or utcnow()
    years = get_settings().retention_years if years is None else years
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def purge_personal_data(now: datetime | None = None) -> dict[str, int]:
    """Delete photos and erase signatures older than the retention period; commits in batches and
    returns how many of each went. Files leave the storage only after their rows are gone (a failed
    commit leaves both, never a row without its file)."""
    before = cutoff(now)
    seal_id = get_settings().seal_photo_id
    counts = {"photos": 0, "signatures": 0}
    while True:
        query = db.select(Photo.id, Photo.stored_name).where(Photo.uploaded_at < before)
        if seal_id is not None:
            query = query.where(Photo.id != seal_id)
        rows = db.session.execute(query.order_by(Photo.id).limit(BATCH)).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        db.session.execute(db.update(DeliveryReceipt).where(DeliveryReceipt.stamped_photo_id.in_(ids))
                           .values(stamped_photo_id=None))
        db.session.execute(db.delete(Photo).where(Photo.id.in_(ids)))
        db.session.commit()
        for row in rows:
            delete_stored(row.stored_name)
        counts["photos"] += len(rows)
    # The drawn signature, and the address and browser it came from; an erased one has no SVG left.
    for model, erased in ((DeliveryReceipt, None), (Countersignature, ""), (Acceptance, "")):
        result = db.session.execute(
            db.update(model).where(model.signed_at < before, model.signature_svg.is_not(None),
                                   model.signature_svg != "")
            .values(strokes_json=erased if erased is None else "[]", signature_svg=erased,
                    ip_address="", user_agent=""))
        counts["signatures"] += result.rowcount
    db.session.commit()
    if any(counts.values()):
        log.info("retention: deleted %(photos)s photos and erased %(signatures)s signatures", counts)
    return counts


@background.periodic(background.crontab(minute="40", hour="18"))  # 02:40 in China (UTC+8), a quiet hour
def purge_personal_data_daily() -> None:
    """The worker's daily run of the retention job."""
    purge_personal_data()

