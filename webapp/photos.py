"""Photos attached to anything (progress, anomalies, dispatch, receipts): re-encoded, served with
a permission check by the caller."""
from datetime import datetime

from flask import abort, send_file
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from . import uploads
from .db_types import UTCDateTime, utcnow
from .extensions import db

MAX_PHOTOS = 6


class Photo(db.Model):
    """One image, re-encoded without EXIF, belonging to one entity."""

    __table_args__ = (Index("ix_photo_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column()
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def save_photos(files, entity_type: str, entity_id: int, user=None, limit: int = MAX_PHOTOS) -> list[Photo]:
    """Check and store uploaded images for an entity. Raise uploads.UploadError, before any file is
    written, when one is unfit or there are more than limit (none is dropped silently)."""
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > limit:
        raise uploads.UploadError(uploads.too_many_photos_message(len(chosen), limit))
    for file_storage in chosen:
        uploads.prepared_image(file_storage)  # every photo is fit before the first is written
    photos = []
    for file_storage in chosen:
        stored = uploads.store_image(file_storage)
        photo = Photo(entity_type=entity_type, entity_id=entity_id, stored_name=stored.stored_name,
                      content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                      uploaded_by_id=user.id if user is not None else None)
        db.session.add(photo)
        photos.append(photo)
    db.session.flush()
    return photos


def photos_of(entity_type: str, entity_ids) -> dict[int, list[Photo]]:
    """Photos per entity id, in one query."""
    ids = list(entity_ids)
    out: dict[int, list[Photo]] = {i: [] for i in ids}
    if ids:
        for photo in db.session.scalars(db.select(Photo).where(
                Photo.entity_type == entity_type, Photo.entity_id.in_(ids)).order_by(Photo.id)):
            out[photo.entity_id].append(photo)
    return out


def send_photo(photo: Photo):
    """Send a stored photo inline (it was re-encoded, so it is safe to show)."""
    if photo is None:
        abort(404)
    return send_file(uploads.path_of(photo.stored_name), mimetype=photo.content_type,
                     max_age=3600, conditional=True)
