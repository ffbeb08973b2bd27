"""Photos attached to anything (progress, anomalies, dispatch, receipts): re-encoded, each with a
small thumbnail, and served by one view behind one permission check (permissions.can_see_photo)."""
import io
from datetime import datetime

from flask import Blueprint, abort
from flask_login import current_user, login_required
from PIL import Image
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from . import storage, uploads
from .db_types import UTCDateTime
from .extensions import db
from .wallclock import utcnow

MAX_PHOTOS = uploads.MAX_PHOTOS  # the most photos one form or replay keeps (defined with the other limits)
# A photo never changes under its id (a new one is a new row), so the browser may keep it a day;
# "private" (webapp.secure_headers) keeps it out of shared caches.
PHOTO_MAX_AGE = 24 * 3600

bp = Blueprint("photos", __name__)


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


def order_of(photo: Photo):
    """The order a photo is evidence for, as the domain that keeps that kind of photo finds it (None
    for a photo kept with an offline conflict, or whose record is gone)."""
    from .registry import photo_kind
    kind = photo_kind(photo.entity_type)
    return kind.order_of(photo.entity_id) if kind is not None and kind.order_of is not None else None


def get_photo(photo_id: int, kinds: tuple[str, ...] | None = None) -> Photo:
    """Load a photo the current user may see, or 404 (unknown, another kind than asked, its record
    gone, its order out of the user's scope) / 403 (not theirs to see): the one gate every photo
    passes through."""
    from .permissions import can_see_photo
    from .registry import photo_kind, visible
    photo = db.session.get(Photo, photo_id)
    if photo is None or (kinds is not None and photo.entity_type not in kinds):
        abort(404)
    order = None
    kind = photo_kind(photo.entity_type)
    if kind is None:
        abort(404)
    if kind.order_of is not None:
        order = order_of(photo)
        # The loader's scope rule (webapp/loading.py): a sales rep who sees only their own
        # customers learns nothing of another rep's order from its photos' addresses either.
        if order is None or not visible(current_user, order):
            abort(404)
    if not can_see_photo(current_user, photo.entity_type, order):
        abort(403)
    return photo


def send_photo(photo: Photo, thumb: bool = False):
    """Send a stored photo (or its thumbnail) inline: it was re-encoded, so it is safe to show;
    its own Content-Type, nosniff and the CSP come with every response (webapp.secure_headers)."""
    name = f"photo-{photo.id}-small.jpg" if thumb else f"photo-{photo.id}.{photo.stored_name.rsplit('.', 1)[-1]}"
    # inline (shown, not downloaded), under a name that says nothing of the uploader's file name
    if thumb:
        return storage.current().send(thumbnail_key(photo), mimetype="image/jpeg", download_name=name,
                                      max_age=PHOTO_MAX_AGE)
    return uploads.send_stored(photo.stored_name, mimetype=photo.content_type, download_name=name,
                               max_age=PHOTO_MAX_AGE)


def thumbnail_key(photo: Photo) -> str:
    """The photo's thumbnail, made now and kept in the storage for a photo stored before thumbnails
    were made at upload (the photo itself is already re-encoded and at most 1600 px: a quick decode)."""
    key = uploads.thumb_key(photo.stored_name)
    if storage.current().exists(key):
        return key
    try:
        original = uploads.read_stored(photo.stored_name)
    except FileNotFoundError:
        abort(404)
    with Image.open(io.BytesIO(original)) as image:
        image.load()
        data = uploads.thumbnail_bytes(image)
    return uploads.write_thumbnail(photo.stored_name, data, for_request=False)


@bp.get("/photos/<int:photo_id>")
@login_required
def full(photo_id: int):
    """A photo at its stored size, for staff who may see its order."""
    return send_photo(get_photo(photo_id))


@bp.get("/photos/<int:photo_id>/small")
@login_required
def thumb(photo_id: int):
    """A photo's thumbnail (320 px JPEG), for staff who may see its order."""
    return send_photo(get_photo(photo_id), thumb=True)
