"""Uploads: size-checked, type-sniffed, images re-encoded without EXIF, stored under instance/."""
import hashlib
import io
import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

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
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


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


def _folder() -> str:
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    return folder


def store(file_storage) -> StoredFile:
    """Check and keep an uploaded drawing, document or image; raise UploadError if it is unfit."""
    filename = os.path.basename(file_storage.filename or "").strip()[:200]
    if not filename:
        raise UploadError(_("Choose a file."))
    data = file_storage.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UploadError(_("The file is larger than 20 MB."))
    if not data:
        raise UploadError(_("The file is empty."))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in ("jpg", "jpeg", "png", "webp"):
        data, ext, content_type = reencode_image(data)
    elif ext in DOCUMENT_TYPES:
        magic, content_type = DOCUMENT_TYPES[ext]
        if magic is not None and not data.startswith(magic):
            raise UploadError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
        if magic is None and b"\x00" in data[:4096]:
            raise UploadError(_("The file's content does not match its type (.%(ext)s).", ext=ext))
    else:
        raise UploadError(_("This file type is not accepted. Use PDF, DWG, DXF, STEP, images or Office files."))
    return _keep(data, ext, filename, content_type)


def _keep(data: bytes, ext: str, filename: str, content_type: str) -> StoredFile:
    """Write checked bytes under a random name in instance/uploads."""
    stored_name = f"{secrets.token_hex(16)}.{ext}"
    with open(os.path.join(_folder(), stored_name), "xb") as fh:
        fh.write(data)
    return StoredFile(stored_name, filename, content_type, len(data), hashlib.sha256(data).hexdigest())


def store_image(file_storage, max_bytes: int = 15 * 1024 * 1024) -> StoredFile:
    """Check and keep an uploaded photo (JPEG, PNG or WebP only), re-encoded without metadata."""
    filename = os.path.basename(file_storage.filename or "photo").strip()[:200] or "photo"
    data = file_storage.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(_("The photo is larger than 15 MB."))
    if not data:
        raise UploadError(_("The file is empty."))
    data, ext, content_type = reencode_image(data)
    return _keep(data, ext, filename, content_type)


def reencode_image(data: bytes) -> tuple[bytes, str, str]:
    """Open an image as JPEG/PNG/WebP only, check its pixel count before decoding, re-encode it
    without EXIF or other metadata."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_TYPES:
                raise UploadError(_("Only JPEG, PNG and WebP images are accepted."))
            width, height = probe.size
            if width * height > current_app.config["MAX_IMAGE_PIXELS"]:
                raise UploadError(_("The image has too many pixels."))
            image_format = probe.format
            probe.load()
            # Apply the camera's orientation before EXIF (and its Orientation tag) is dropped.
            image = ImageOps.exif_transpose(probe)
    except UploadError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise UploadError(_("This is not a readable image.")) from None
    ext, content_type = IMAGE_TYPES[image_format]
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue(), ext, content_type


def path_of(stored_name: str) -> str:
    """Where a stored file lives (names are generated, never user input)."""
    if "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError("bad stored name")
    return os.path.join(_folder(), stored_name)
