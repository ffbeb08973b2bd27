"""Hostile photo uploads on the worker's phone page (the anomaly form, whose photos go through
photos.save_photos and uploads.reencode_image): a photo over the size limit and a PDF renamed .jpg are
refused with a message in the worker's language and nothing kept; a decompression bomb (a small PNG
declaring 30,000 × 30,000 pixels) is refused from its header, before any pixel is decoded, with the
process's memory flat; a phone photo's EXIF, GPS position included, is not in the stored photo or its
thumbnail. (The pixel limit, EXIF and renamed files of requirement attachments: test_requirements.py.)"""
import gc
import io
import os
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageFile

from webapp.extensions import db
from webapp.photos import Photo
from webapp.production.models import Anomaly

from .helpers import image_bytes, text_of

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def anomaly(worker, token, photo: bytes, filename: str, headers=None):
    return worker.post(f"/w/{token}/anomaly", data={
        "a-kind": "quality", "a-severity": "minor", "a-note": "毛刺", "a-contingency": "",
        "a-photos": [(io.BytesIO(photo), filename)]}, content_type="multipart/form-data", headers=headers or {})


def nothing_kept(app) -> bool:
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count()).select_from(Photo)) + db.session.scalar(
            db.select(db.func.count()).select_from(Anomaly))
    folder = app.config["UPLOAD_FOLDER"]
    files = [name for _dir, _subdirs, names in os.walk(folder) for name in names] if os.path.isdir(folder) else []
    return rows == 0 and files == []


def png_bomb(side: int = 30000) -> bytes:
    """A real PNG of side × side one-bit pixels, all black: ~110 KB on the wire, 900 MB once Pillow
    decodes it (one byte per pixel)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"\x00" * (1 + (side + 7) // 8) * 1000  # a thousand rows: filter byte, then the row's bits
    # Compressed once, flushed so that it stands alone, and repeated: a valid zlib stream made in
    # milliseconds instead of deflating 112 MB.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(rows) + packer.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(side // 1000):
        checksum = zlib.adler32(rows, checksum)
    idat = (b"\x78\xda" + block * (side // 1000) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
            + struct.pack(">I", checksum))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


@pytest.fixture(autouse=True)
def collect_spooled_uploads():
    """After each test, collect the temporary files the test client's form parser spooled large uploads
    to (it leaves them to the garbage collector): collected later, in another test, their
    ResourceWarning would fail that test instead."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def worker_and_token(app, make_order, as_user, work_order):
    return as_user("worker", locale="zh"), work_order.token


def test_a_photo_over_the_size_limit_is_refused_in_the_workers_language(app, worker_and_token):
    worker, token = worker_and_token
    big = image_bytes("JPEG", (32, 24)) + b"\x00" * (15 * 1024 * 1024)  # a JPEG padded past 15 MB
    response = anomaly(worker, token, big, "IMG_0001.jpg", ZH)
    assert response.status_code == 422
    assert "照片超过 15 MB。" in text_of(response)
    assert nothing_kept(app)
    # The test client leaves the multipart parser's temporary file (a body this size is spooled to
    # disk) to the garbage collector; collected here, its ResourceWarning would fail the next test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.parametrize("content", [b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
                                     "送货单：100 件".encode() * 50], ids=["pdf", "text"])
def test_a_renamed_non_image_is_refused(app, worker_and_token, content):
    worker, token = worker_and_token
    response = anomaly(worker, token, content, "photo.jpg", ZH)
    assert response.status_code == 422
    assert "无法读取此图片。" in text_of(response)
    assert nothing_kept(app)


def test_a_decompression_bomb_is_refused_before_decoding_with_flat_memory(app, worker_and_token, monkeypatch):
    worker, token = worker_and_token
    bomb = png_bomb()
    assert len(bomb) < 200_000
    assert struct.unpack(">II", bomb[16:24]) == (30000, 30000)  # its header declares 900 million pixels
    decoded = []
    original_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or original_load(self))
    # The peak resident memory from here on (Linux: writing 5 to clear_refs resets VmHWM to VmRSS).
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = rss_kb("VmRSS")
    response = anomaly(worker, token, bomb, "site.png", ZH)
    growth_mb = (rss_kb("VmHWM") - before) / 1024
    print(f"peak memory growth while the bomb was refused: {growth_mb:.1f} MB")
    assert response.status_code == 422
    assert "图片像素过多。" in text_of(response)
    assert decoded == [], "the bomb's pixels were decoded"
    assert growth_mb < 50, f"peak memory grew by {growth_mb:.0f} MB"
    assert nothing_kept(app)


def test_exif_and_gps_are_not_kept_in_the_photo_or_its_thumbnail(app, worker_and_token):
    worker, token = worker_and_token
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPSInfo
    original = image_bytes("JPEG", (640, 480), exif=exif)
    with Image.open(io.BytesIO(original)) as check:  # the photo really carries a position
        assert check.getexif().get_ifd(0x8825).get(2) == (31.0, 14.0, 0.0)
    response = anomaly(worker, token, original, "IMG_0002.jpg")
    assert response.status_code == 303, text_of(response)[:500]
    with app.app_context():
        photo = db.session.scalar(db.select(Photo))
        photo_id = photo.id
    for url in (f"/photos/{photo_id}", f"/photos/{photo_id}/small"):
        served = worker.get(url)
        data = served.get_data()
        served.close()
        assert served.status_code == 200 and b"SpyCam" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert dict(image.getexif()) == {} and not image.getexif().get_ifd(0x8825), url
