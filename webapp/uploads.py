"""Uploads: size-checked, type-sniffed, images re-encoded without EXIF, kept in the storage
(webapp/storage.py: instance/uploads by default, a shared bucket with STORAGE_URL)."""
import hashlib
import io
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from . import request_scope, storage

# Magic bytes of the document types a requirement may carry; the extension must agree.
DOCUMENT_TYPES = {
    "pdf": (b"%PDF-", "application/pdf"),
    "dwg": (b"AC10", "application/acad"),
    "dxf": (None, "image/vnd.dxf"),
    "step": (b"ISO-10303-21", "application/step"),
    "stp": (b"ISO-10303-21", "application/step"),
    "docx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "zip": (b"PK\x03\x04", "application/zip"),
    "txt": (None, "text/plain"),
}
IMAGE_TYPES = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_PHOTO_BYTES = 15 * 1024 * 1024
# Photos are kept at most this many pixels on their long side: what a phone already sends (it
# downscales to 1600 px before queueing), enough to see damage or read a stamped note, and what lets
# a 12 MP JPEG be decoded at half scale (Pillow's draft mode) instead of in full.
MAX_PHOTO_SIDE = 1600
# The most photos one form or offline replay keeps (photos.save_photos).
MAX_PHOTOS = 6
# The most images one request may carry: six photos and one stamped delivery note. Beyond it none is
# decoded at all, so one request cannot make the server decode dozens of camera pictures.
MAX_IMAGES_PER_REQUEST = 7
# Thumbnails are made at most this many pixels on their long side: sharp at 160 CSS px on a phone's
# 2x screen, a few kilobytes each, so a page with a dozen photos stays light.
THUMB_SIDE = 320
# Upload fields whose images are documents (a drawing photographed or scanned) and keep their size.
DOCUMENT_FIELDS = ("file",)


class UploadError(ValueError):
    """An upload that cannot be accepted; the message is translated."""


@dataclass
class StoredFile:
    """What was kept."""

    stored_name: str
    filename: str
    content_type: str
    size: int
    sha256: str


def store(file_storage) -> StoredFile:
    """Check and keep an uploaded drawing, document or image; raise UploadError if it is unfit."""
    filename = os.path.basename(file_storage.filename or "").strip()[:200]
    if not filename:
        raise UploadError(_("Choose a file."))
    ext = _extension(filename)
    if ext in IMAGE_EXTENSIONS:
        prepared = prepared_image(file_storage, document=True)
        return _keep(prepared.data, prepared.ext, filename, prepared.content_type)
    data = _read(file_storage, MAX_DOCUMENT_BYTES, _("The file is larger than 20 MB."))
    if ext in DOCUMENT_TYPES:
        magic, content_type = DOCUMENT_TYPES[ext]
        if magic is not None and not data.startswith(magic):
            raise UploadError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
        if magic is None and b"\x00" in data[:4096]:
            raise UploadError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
    else:
        raise UploadError(_("This file type is not accepted. Use PDF, DWG, DXF, STEP, images or Office files."))
    return _keep(data, ext, filename, content_type)


def sha256_of(file_storage) -> str:
    """The SHA-256 of an upload's whole content, leaving its stream at the start for whoever reads
    it next (a request's view may run twice: transaction.py)."""
    stream = file_storage.stream
    stream.seek(0)
    digest = hashlib.file_digest(stream, "sha256").hexdigest()
    stream.seek(0)
    return digest


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _read(file_storage, limit: int, too_large: str) -> bytes:
    """The upload's bytes (read once per request: the phases of transaction.py share them)."""
    cache = request_scope.memo().setdefault("upload_bytes", {})
    if id(file_storage) not in cache:
        file_storage.stream.seek(0)
        cache[id(file_storage)] = file_storage.stream.read(MAX_DOCUMENT_BYTES + 1)
        file_storage.stream.seek(0)
    data = cache[id(file_storage)]
    if len(data) > limit:
        raise UploadError(too_large)
    if not data:
        raise UploadError(_("The file is empty."))
    return data


def _keep(data: bytes, ext: str, filename: str, content_type: str) -> StoredFile:
    """Keep checked bytes under a random name in the storage's uploads (removed again if the request
    does not commit: request_scope.discard_written_files)."""
    stored_name = f"{secrets.token_hex(16)}.{ext}"
    key = upload_key(stored_name)
    request_scope.note_written_file(key)
    with storage_errors():
        storage.current().put(key, data, content_type)
    return StoredFile(stored_name, filename, content_type, len(data), hashlib.sha256(data).hexdigest())


# The storage cannot take or give a file now: 503 (errors.py). Defined with the storage, named here too.
StorageUnavailable = storage.StorageUnavailable


@contextmanager
def storage_errors():
    """Turn the operating system's refusal to write a file (ENOSPC, EROFS, EACCES, EFBIG …) into
    StorageUnavailable; the half-written file is removed with the request's others (it does not commit)."""
    try:
        yield
    except OSError as error:
        raise StorageUnavailable(str(error)) from error
    except Exception as error:
        # An S3-compatible store that is down or refuses (botocore's errors are not OSErrors): the same
        # answer, 503 with Retry-After, and the phone sends it again later.
        if type(error).__module__.startswith("botocore"):
            raise StorageUnavailable(str(error)) from error
        raise


@dataclass
class PreparedImage:
    """A photo decoded, checked and re-encoded before the request's transaction began (with its
    thumbnail, made from the same decoded pixels, for photos; documents have none)."""

    data: bytes
    ext: str
    content_type: str
    thumb: bytes | None = None


def is_image_upload(file_storage) -> bool:
    """Whether an upload is to be handled as a photo (by its name, or for a nameless blob, its type)."""
    if _extension(file_storage.filename or "") in IMAGE_EXTENSIONS:
        return True
    return (file_storage.mimetype or "").startswith("image/") and "." not in (file_storage.filename or "")


def has_images() -> bool:
    """Whether this request carries an image upload."""
    from flask import request
    return any(f and f.filename and is_image_upload(f) for _key, f in request.files.items(multi=True))


def prepare_request_files() -> None:
    """Decode, check and re-encode every image of this request now, before any transaction, and
    keep the results for the view (transaction.py). At most MAX_IMAGES_PER_REQUEST are decoded."""
    from flask import request
    images = [f for _key, f in request.files.items(multi=True) if f and f.filename and is_image_upload(f)]
    results = request_scope.memo().setdefault("prepared_images", {})
    for file_storage in images[MAX_IMAGES_PER_REQUEST:]:
        # Never decoded. A form refuses the whole post anyway (save_photos counts its field first);
        # a conflict keeps the first photos and lists the rest by name and SHA-256 (replay.py).
        results[id(file_storage)] = UploadError(too_many_photos_message(len(images)))
    for file_storage in images[:MAX_IMAGES_PER_REQUEST]:
        results[id(file_storage)] = _prepare(file_storage, document=file_storage.name in DOCUMENT_FIELDS)


def _prepare(file_storage, document: bool = False) -> "PreparedImage | UploadError":
    try:
        if document:
            data = _read(file_storage, MAX_DOCUMENT_BYTES, _("The file is larger than 20 MB."))
            return reencode_image(data, max_side=None)
        data = _read(file_storage, MAX_PHOTO_BYTES, _("The photo is larger than 15 MB."))
        return reencode_image(data, thumb_side=THUMB_SIDE)
    except UploadError as error:
        return error


def prepared_image(file_storage, document: bool = False) -> PreparedImage:
    """The re-encoded image for an upload (prepared before the transaction, or now); raise
    UploadError if it was unfit."""
    results = request_scope.memo().setdefault("prepared_images", {})
    if id(file_storage) not in results:
        results[id(file_storage)] = _prepare(file_storage, document)
    result = results[id(file_storage)]
    if isinstance(result, UploadError):
        raise result
    return result


def too_many_photos_message(count: int, limit: int | None = None) -> str:
    """What a person is told when they send more photos than are kept."""
    from flask_babel import ngettext
    limit = limit or MAX_PHOTOS
    return ngettext("At most %(num)s photo can be sent here; %(count)s were chosen. Remove some and send again.",
                    "At most %(num)s photos can be sent here; %(count)s were chosen. Remove some and send again.",
                    limit, count=count)


def store_image(file_storage) -> StoredFile:
    """Check and keep an uploaded photo (JPEG, PNG or WebP only), re-encoded without metadata, and
    its thumbnail beside it."""
    filename = os.path.basename(file_storage.filename or "photo").strip()[:200] or "photo"
    prepared = prepared_image(file_storage)
    stored = _keep(prepared.data, prepared.ext, filename, prepared.content_type)
    if prepared.thumb is not None:
        write_thumbnail(stored.stored_name, prepared.thumb)
    return stored


def reencode_image(data: bytes, max_side: int | None = MAX_PHOTO_SIDE,
                   thumb_side: int | None = None) -> PreparedImage:
    """Open an image as JPEG/PNG/WebP only, check its pixel count before decoding, decode it at no
    more than max_side (a JPEG in Pillow's draft mode, at a reduced scale), and re-encode it
    without EXIF or other metadata; with thumb_side, also a JPEG thumbnail from the same pixels."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_TYPES:
                raise UploadError(_("Only JPEG, PNG and WebP images are accepted."))
            width, height = probe.size
            if width * height > current_app.config["MAX_IMAGE_PIXELS"]:
                raise UploadError(_("The image has too many pixels."))
            image_format = probe.format
            scale = min(1.0, (max_side or max(width, height)) / max(width, height))
            if image_format == "JPEG" and scale < 1:
                # Decode at 1/2, 1/4 or 1/8 scale where that still covers the size kept.
                probe.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
            probe.load()
            # Apply the camera's orientation before EXIF (and its Orientation tag) is dropped.
            image = ImageOps.exif_transpose(probe)
            if max_side and max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except UploadError:
        raise
    except Image.DecompressionBombError:  # Pillow's own check, past twice its limit, as it opens the file
        raise UploadError(_("The image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(_("This is not a readable image.")) from None
    ext, content_type = IMAGE_TYPES[image_format]
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return PreparedImage(out.getvalue(), ext, content_type,
                         thumbnail_bytes(image, thumb_side) if thumb_side else None)


def thumbnail_bytes(image: Image.Image, side: int = THUMB_SIDE) -> bytes:
    """A small JPEG of a decoded image (transparency laid on white): one format for every thumbnail,
    the smallest for photographs."""
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    if small.mode in ("RGBA", "LA", "P"):
        small = small.convert("RGBA")
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small, mask=small.getchannel("A"))
        small = background
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def upload_key(stored_name: str) -> str:
    """The storage key of a stored upload (names are generated, never user input)."""
    key = f"uploads/{stored_name}"
    storage.split_key(key)  # the checks on the name
    return key


def thumb_key(stored_name: str) -> str:
    """The storage key of a stored photo's thumbnail (always a JPEG). Thumbnails live beside the
    uploads, not among them: they are derived and can be made again from the photo."""
    upload_key(stored_name)
    return "thumbs/" + stored_name.rsplit(".", 1)[0] + ".jpg"


def write_thumbnail(stored_name: str, data: bytes, for_request: bool = True) -> str:
    """Keep a photo's thumbnail (atomically: a reader never sees half a file; two requests making the
    same one at once both end with a whole file). One written with an upload (for_request) is removed
    again if the request does not commit; one made later for an older photo is a cache and stays."""
    key = thumb_key(stored_name)
    if for_request:
        request_scope.note_written_file(key)
    with storage_errors():
        storage.current().put(key, data, "image/jpeg")
    return key


def delete_stored(stored_name: str) -> None:
    """Remove a stored upload and its thumbnail (if it has one) from the storage."""
    store = storage.current()
    store.delete(upload_key(stored_name))
    store.delete(thumb_key(stored_name))


def read_stored(stored_name: str) -> bytes:
    """The bytes of a stored upload; FileNotFoundError when they are gone."""
    return storage.current().get(upload_key(stored_name))


def send_stored(stored_name: str, *, mimetype: str, download_name: str, as_attachment: bool = False,
                max_age: int | None = None):
    """A response with a stored upload (404 when it is gone); the caller has checked the permission."""
    return storage.current().send(upload_key(stored_name), mimetype=mimetype, download_name=download_name,
                                  as_attachment=as_attachment, max_age=max_age)


def thumb_path_of(stored_name: str) -> str:
    """Where the thumbnail of a stored photo lives on disk (the local storage only; tests and tools)."""
    return storage.LocalStorage().path(thumb_key(stored_name))


def path_of(stored_name: str) -> str:
    """Where a stored file lives on disk (the local storage only; tests and tools)."""
    return storage.LocalStorage().path(upload_key(stored_name))
