"""Uploads on shared storage (issue 17, "Past one machine"): the storage interface on a local folder
and on an S3-compatible server (moto's server mode, a real HTTP server on loopback); photos, their
thumbnails, requirement attachments and the seal printed on PDF copies kept in the bucket and served
through the app's permission-checked views; the retention job deletes old photos from the storage and
erases old signatures, on both databases."""
import io
import os
from datetime import timedelta

import boto3
import pytest
from PIL import Image

from webapp import storage, uploads
from webapp.extensions import db
from webapp.firm import get_settings
from webapp.orders import Countersignature
from webapp.photos import Photo
from webapp.wallclock import utcnow

from .conftest import new_bucket
from .helpers import text_of
from .test_pdf_copies import countersign, seal_png
from .test_requirements import new_requirement, upload
from .test_photos import anomaly_photo, in_production, raise_anomaly

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def bucket_keys(endpoint: str, bucket: str) -> set[str]:
    """Every object's key in the bucket, asked of the S3 server itself."""
    listing = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture
def s3_app(app, moto_s3, monkeypatch):
    """The app with its uploads in a fresh bucket (under a prefix, as a firm sharing a bucket would)."""
    bucket = new_bucket(moto_s3)
    monkeypatch.setitem(app.extensions, "storage",
                        storage.from_url(f"s3://{bucket}/firm?endpoint={moto_s3}&region=us-east-1"))
    app.bucket = bucket
    yield app
    del app.bucket


def test_the_storage_interface_on_a_folder_and_on_s3(app, moto_s3):
    """put, get, exists and delete behave the same on both backends; a missing file is
    FileNotFoundError; keys the app would never make are refused before anything is touched."""
    bucket = new_bucket(moto_s3)
    with app.app_context():
        for store in (storage.LocalStorage(), storage.from_url(f"s3://{bucket}?endpoint={moto_s3}")):
            key = "uploads/abc123.pdf"
            assert not store.exists(key)
            with pytest.raises(FileNotFoundError):
                store.get(key)
            store.put(key, b"%PDF-1 first", "application/pdf")
            store.put(key, b"%PDF-1 second", "application/pdf")  # replaced whole
            assert store.exists(key) and store.get(key) == b"%PDF-1 second"
            store.delete(key)
            store.delete(key)  # deleting what is gone is no error
            assert not store.exists(key)
            for bad in ("uploads/../secret_key", "uploads/.hidden", "other/x.pdf", "uploads/a/b", "uploads/"):
                with pytest.raises(ValueError):
                    store.put(bad, b"x")
        assert bucket_keys(moto_s3, bucket) == set()
    with pytest.raises(ValueError):
        storage.from_url("ftp://host/bucket")


def test_photos_attachments_and_the_seal_live_in_the_bucket_and_are_served_by_the_app(
        s3_app, moto_s3, make_order, as_user, make_customer):
    """With STORAGE_URL on S3 nothing is written to the uploads folder: a worker's anomaly photo and
    its thumbnail are objects in the bucket, shown to the supervisor through /photos/<id> (with 304
    for a browser's copy) and never to a visitor who is not logged in; a requirement's drawing
    downloads from the bucket; the firm's seal, kept in the bucket, is printed on a customer's PDF copy."""
    app = s3_app
    order_id, _wo_id, token = in_production(app, make_order)
    worker, supervisor = as_user("worker"), as_user("production")
    raise_anomaly(worker, token)
    photo = anomaly_photo(app)
    keys = bucket_keys(moto_s3, app.bucket)
    photo_key = f"firm/uploads/{photo.stored_name}"
    thumb_key = "firm/thumbs/" + photo.stored_name.rsplit(".", 1)[0] + ".jpg"
    assert {photo_key, thumb_key} <= keys
    assert not os.path.exists(app.config["UPLOAD_FOLDER"]) or not os.listdir(app.config["UPLOAD_FOLDER"])

    full = supervisor.get(f"/photos/{photo.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    stored = boto3.client("s3", endpoint_url=moto_s3).get_object(Bucket=app.bucket, Key=photo_key)["Body"].read()
    assert full.data == stored and Image.open(io.BytesIO(full.data)).size[0] == uploads.MAX_PHOTO_SIDE
    again = supervisor.get(f"/photos/{photo.id}", headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    small = supervisor.get(f"/photos/{photo.id}/small")
    assert small.status_code == 200 and max(Image.open(io.BytesIO(small.data)).size) == uploads.THUMB_SIDE
    assert app.test_client().get(f"/photos/{photo.id}").status_code == 302  # to the login page

    # A thumbnail lost from the bucket is made again from the photo, into the bucket.
    boto3.client("s3", endpoint_url=moto_s3).delete_object(Bucket=app.bucket, Key=thumb_key)
    assert supervisor.get(f"/photos/{photo.id}/small").status_code == 200
    assert thumb_key in bucket_keys(moto_s3, app.bucket)

    # A requirement's drawing: kept in the bucket, downloaded through the requirement's view.
    sales = as_user("sales")
    requirement_id = new_requirement(sales, make_customer("DRW"))
    from webapp.requirements.models import Attachment
    pdf = b"%PDF-1.4 a drawing of a bracket"
    posted = upload(sales, requirement_id, pdf, "bracket.pdf")
    assert posted.status_code == 303, text_of(posted)[:400]
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment).where(Attachment.requirement_id == requirement_id))
        assert f"firm/uploads/{attachment.stored_name}" in bucket_keys(moto_s3, app.bucket)
        attachment_id = attachment.id
    download = sales.get(f"/requirements/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == pdf
    assert "attachment" in download.headers["Content-Disposition"]

    # The seal, uploaded by the admin into the bucket, is printed on the customer's copy.
    make_customer("HDJM", name="华东机械", locale="zh")
    assert as_user("admin").post("/admin/settings/seal", data={"seal": (seal_png(), "seal.png")},
                                 content_type="multipart/form-data").status_code == 303
    _order, path, customer, _location = countersign(app, make_order)
    assert b"/SMask" in customer.get(path + "/copy.pdf").data
    assert not os.path.exists(app.config["UPLOAD_FOLDER"]) or not os.listdir(app.config["UPLOAD_FOLDER"])

    # The retention job deletes an old photo's objects from the bucket (the seal stays).
    with app.app_context():
        db.session.execute(db.update(Photo).values(uploaded_at=utcnow() - timedelta(days=11 * 366)))
        db.session.commit()
        seal = db.session.get(Photo, get_settings().seal_photo_id)
        seal_key = f"firm/uploads/{seal.stored_name}"
    result = app.test_cli_runner().invoke(args=["purge-personal-data"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 photos" in result.output
    left = bucket_keys(moto_s3, app.bucket)
    assert photo_key not in left and thumb_key not in left and seal_key in left
    assert supervisor.get(f"/photos/{photo.id}").status_code == 404


def test_a_file_missing_from_the_bucket_is_404_and_a_refusing_store_503(s3_app, moto_s3, make_order, as_user,
                                                                      monkeypatch):
    """A photo whose object is gone answers 404 (not found, not a fault); a store that refuses the read
    (here a bucket that does not exist; in production a key without s3:ListBucket, which S3 answers 403
    for a missing object) answers 503 with Retry-After, never a 500."""
    app = s3_app
    _order_id, _wo_id, token = in_production(app, make_order)
    worker, supervisor = as_user("worker"), as_user("production")
    raise_anomaly(worker, token)
    photo = anomaly_photo(app)
    boto3.client("s3", endpoint_url=moto_s3).delete_object(Bucket=app.bucket, Key=f"firm/uploads/{photo.stored_name}")
    assert supervisor.get(f"/photos/{photo.id}").status_code == 404
    monkeypatch.setitem(app.extensions, "storage",
                        storage.from_url(f"s3://no-such-bucket-here/firm?endpoint={moto_s3}&region=us-east-1"))
    refused = supervisor.get(f"/photos/{photo.id}")
    assert refused.status_code == 503 and refused.headers.get("Retry-After")


@BOTH
def test_the_retention_job_erases_old_signatures_and_deletes_old_photos(app, make_order, as_user, make_customer):
    """Past the firm's period (set to 2 years) the customer's drawn signature, address and browser are
    erased and photos are deleted with their files; what is younger stays whole; running it again
    finds nothing more. The business record (who signed, the terms' SHA-256) stays."""
    make_customer("HDJM", name="华东机械", locale="zh")
    _old_order, _p, _c, _l = countersign(app, make_order)
    _new_order, _p, _c, _l = countersign(app, make_order, signer="李四")
    _order_id, _wo_id, token = in_production(app, make_order)
    worker = as_user("worker")
    raise_anomaly(worker, token, note="old")
    old_photo = anomaly_photo(app)
    raise_anomaly(worker, token, note="new")
    new_photo = anomaly_photo(app)
    with app.app_context():
        get_settings().retention_years = 2
        signatures = db.session.scalars(db.select(Countersignature).order_by(Countersignature.id)).all()
        signatures[0].signed_at = utcnow() - timedelta(days=2 * 366)
        db.session.get(Photo, old_photo.id).uploaded_at = utcnow() - timedelta(days=2 * 366)
        db.session.commit()
        old_sig_id, new_sig_id = signatures[0].id, signatures[1].id
        old_files = [uploads.path_of(old_photo.stored_name), uploads.thumb_path_of(old_photo.stored_name)]
        new_files = [uploads.path_of(new_photo.stored_name), uploads.thumb_path_of(new_photo.stored_name)]
    assert all(os.path.exists(p) for p in old_files + new_files)

    result = app.test_cli_runner().invoke(args=["purge-personal-data"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 photos and erased 1 signatures" in result.output
    assert not any(os.path.exists(p) for p in old_files) and all(os.path.exists(p) for p in new_files)
    with app.app_context():
        old, new = db.session.get(Countersignature, old_sig_id), db.session.get(Countersignature, new_sig_id)
        assert old.signature_svg == "" and old.strokes_json == "[]" and old.ip_address == "" and old.user_agent == ""
        assert old.signer_name and len(old.terms_sha256) == 64
        assert new.signature_svg.startswith("<svg") and new.strokes_json != "[]"
        assert db.session.get(Photo, old_photo.id) is None and db.session.get(Photo, new_photo.id) is not None
    again = app.test_cli_runner().invoke(args=["purge-personal-data"])
    assert "deleted 0 photos and erased 0 signatures" in again.output
