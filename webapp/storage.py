"""Where uploaded files live: a folder under instance/ by default, or an S3-compatible bucket shared by
several app servers (STORAGE_URL = "s3://bucket/prefix?endpoint=https://…&region=…").

A file is named by a key "area/name": the area is "uploads" (photos, drawings, documents) or "thumbs"
(photo thumbnails, derived and remade when missing). Names are made by the app (random), never taken
from a user. Serving stays in the app, behind its permission checks: send() streams the bytes through
the view that checked them (docs/decisions.md, "Uploads on S3: streamed through the app").

Credentials for S3 come from boto3's usual places (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the
environment, ~/.aws/credentials, an instance role), never from the URL, so the URL can be logged.
"""
import io
import os
import secrets
from urllib.parse import parse_qs, urlsplit

from flask import Flask, abort, current_app, request, send_file

AREAS = ("uploads", "thumbs", "imports")


class Storage:
    """The operations the app needs from a store of files."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Keep data under key (replacing what was there, atomically: a reader sees the old or the new)."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """The bytes under key; FileNotFoundError when there are none."""
        raise NotImplementedError

    def delete(self, key: str) -> None:
        """Remove key (nothing happens when it is missing)."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether something is kept under key."""
        raise NotImplementedError

    def send(self, key: str, *, mimetype: str, download_name: str, as_attachment: bool = False,
             max_age: int | None = None):
        """A response with the file under key (404 when missing), answering conditional requests. The
        caller has checked the permission."""
        raise NotImplementedError


class StorageUnavailable(Exception):
    """The storage cannot take or give a file now (disk full, read-only, no permission, a store that is
    down or refuses): not the sender's fault, so the request answers 503 and the phone's outbox sends
    it again later (errors.py)."""


def split_key(key: str) -> tuple[str, str]:
    """The area and the name of a key; ValueError for anything the app would not have made."""
    area, _sep, name = key.partition("/")
    if area not in AREAS or not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise ValueError(f"bad storage key {key!r}")
    return area, name


class LocalStorage(Storage):
    """Files in folders under instance/ (UPLOAD_FOLDER; thumbs beside it): one machine."""

    def folder(self, area: str) -> str:
        """The folder of an area, read from the app's config each time (tests point it elsewhere)."""
        config = current_app.config
        uploads = config["UPLOAD_FOLDER"]
        if area == "uploads":
            folder = uploads
        elif area == "thumbs":
            folder = config.get("THUMB_FOLDER") or os.path.join(os.path.dirname(os.path.normpath(uploads)), "thumbs")
        else:
            folder = os.path.join(current_app.instance_path, area)
        os.makedirs(folder, exist_ok=True)
        return folder

    def path(self, key: str) -> str:
        """The file of a key."""
        area, name = split_key(key)
        return os.path.join(self.folder(area), name)

    def put(self, key, data, content_type=None):
        """Write to a partial file, then rename it over the name (atomic on one filesystem)."""
        path = self.path(key)
        partial = f"{path}.{secrets.token_hex(4)}.part"
        try:
            with open(partial, "xb") as fh:
                fh.write(data)
            os.replace(partial, path)
        except OSError:
            # A full disk leaves no half-written file behind.
            try:
                os.remove(partial)
            except FileNotFoundError:
                pass
            raise

    def get(self, key):
        """The file's bytes."""
        with open(self.path(key), "rb") as fh:
            return fh.read()

    def delete(self, key):
        """Remove the file if it is there."""
        try:
            os.remove(self.path(key))
        except FileNotFoundError:
            pass

    def exists(self, key):
        """Whether the file is there."""
        return os.path.exists(self.path(key))

    def send(self, key, *, mimetype, download_name, as_attachment=False, max_age=None):
        """send_file from the folder (ranges and conditional requests by werkzeug)."""
        path = self.path(key)
        if not os.path.exists(path):
            abort(404)
        return send_file(path, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name,
                         max_age=max_age, conditional=True)


class S3Storage(Storage):
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, OSS's S3 API): several app servers."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config
        self.bucket, self.prefix = bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""
        # Path-style addressing works with every S3-compatible server and with a bucket name holding
        # dots; short timeouts so a store that is down makes a request fail, not hang a worker.
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=region or "us-east-1",
            config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=30,
                          retries={"max_attempts": 3, "mode": "standard"}))

    def _object(self, key: str) -> str:
        split_key(key)
        return self.prefix + key

    def put(self, key, data, content_type=None):
        """One PUT (S3 replaces an object whole)."""
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, **extra)

    def get(self, key):
        """The object's bytes."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None

    def delete(self, key):
        """DELETE (S3 answers a missing key with success too)."""
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def exists(self, key):
        """A HEAD of the object."""
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def send(self, key, *, mimetype, download_name, as_attachment=False, max_age=None):
        """Send the object through this (permission-checked) response, read whole (photos are small,
        documents at most 20 MB); docs/decisions.md says why not a presigned redirect."""
        # A stored name never changes its content (a new file gets a new random name), so the key is
        # the ETag: a browser revalidating its copy is answered 304 without asking the store.
        etag = key.replace("/", "-")
        if etag in request.if_none_match:
            response = current_app.response_class(status=304)
            response.set_etag(etag)
            return response
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            data = self.get(key)
        except FileNotFoundError:
            abort(404)
        except (BotoCoreError, ClientError) as error:
            # A store that is down or refuses (403 for a missing key without s3:ListBucket): 503 with
            # Retry-After, as for an upload, not a 500.
            raise StorageUnavailable(str(error)) from error
        return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=as_attachment,
                         download_name=download_name, max_age=max_age, etag=etag, conditional=True)


def from_url(url: str | None) -> Storage:
    """The storage a STORAGE_URL names: none (or "local") → the folders under instance/."""
    if not url or url == "local":
        return LocalStorage()
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"STORAGE_URL must be s3://bucket[/prefix][?endpoint=…&region=…], not {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return S3Storage(parts.netloc, parts.path, endpoint=query.get("endpoint"), region=query.get("region"))


def init_app(app: Flask) -> None:
    """Give the app its storage, chosen by STORAGE_URL."""
    app.extensions["storage"] = from_url(app.config.get("STORAGE_URL"))


def current() -> Storage:
    """The current app's storage."""
    return current_app.extensions["storage"]
