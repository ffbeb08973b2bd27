"""Endpoint secrets: made in the Standard Webhooks form (whsec_ + base64 of 24 random bytes),
stored encrypted with a key derived from SECRET_KEY (the app signs with them, so a hash would not
do). Changing SECRET_KEY makes the stored secrets unreadable: rotate every endpoint's secret then."""
import base64
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret as the receiver copies it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key a secret stands for (the bytes after the whsec_ prefix, base64-decoded)."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def _fernet() -> Fernet:
    secret_key = current_app.config["SECRET_KEY"]
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"webhook endpoint secrets").derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str) -> str:
    """The secret encrypted for storage."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(stored: str) -> str:
    """The stored secret in clear, to sign with."""
    return _fernet().decrypt(stored.encode()).decode()
