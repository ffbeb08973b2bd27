"""CSRF tokens masked per response, so that compression leaks nothing (BREACH; DESIGN.md §6).

Compressed pages that reflect what a request carried beside a secret that never changes let an
attacker guess the secret byte by byte from the sizes. Flask-WTF's token (signed, stored in the
session) is the same in every response; here each response shows it masked: a fresh random pad, then
pad XOR token, the two in URL-safe base64. The server unmasks what a form or the X-CSRFToken header
sends and hands the token to Flask-WTF, which validates it as before. A token sent unmasked (a page
rendered before masking, an outbox entry stored then) still validates: Flask-WTF's signed tokens
hold dots, masked ones never do.

One mask per response (kept in g): every copy in a page is the same string, which compression then
sends once, and the next response has another."""
import binascii
import os
from base64 import urlsafe_b64decode, urlsafe_b64encode

from flask import Flask, g
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, _FlaskFormCSRF, generate_csrf, validate_csrf


def mask(token: str) -> str:
    """The token hidden under a fresh random pad: base64(pad + pad XOR token)."""
    raw = token.encode()
    pad = os.urandom(len(raw))
    return urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, raw))).decode().rstrip("=")


def unmask(sent: str | None) -> str | None:
    """The token a masked string stands for; an unmasked (older) token as it is; garbage stays garbage
    for Flask-WTF to refuse."""
    if not sent or "." in sent:
        return sent
    try:
        data = urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except (binascii.Error, ValueError):
        return sent
    half = len(data) // 2
    if not half or len(data) % 2:
        return sent
    try:
        return bytes(a ^ b for a, b in zip(data[:half], data[half:])).decode("ascii")
    except UnicodeDecodeError:
        return sent


def masked_csrf_token() -> str:
    """This response's CSRF token, masked (the same string everywhere in one response)."""
    token = g.get("masked_csrf_token")
    if token is None:
        token = g.masked_csrf_token = mask(generate_csrf())
    return token


class MaskedFormCSRF(_FlaskFormCSRF):
    """A FlaskForm's csrf_token field: rendered masked, unmasked before Flask-WTF validates it."""

    def generate_csrf_token(self, csrf_token_field):
        """The field's value: this response's masked token."""
        generate_csrf(secret_key=self.meta.csrf_secret, token_key=self.meta.csrf_field_name)
        return masked_csrf_token()

    def validate_csrf_token(self, form, field):
        """Unmask, then Flask-WTF's own check (skipped when CSRFProtect already validated the request)."""
        if g.get("csrf_valid", False):
            return
        validate_csrf(unmask(field.data), self.meta.csrf_secret, self.meta.csrf_time_limit,
                      self.meta.csrf_field_name)


class MaskedCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRFProtect, reading masked tokens and giving templates masked ones."""

    def init_app(self, app: Flask) -> None:
        """Flask-WTF's set-up, then csrf_token() in templates (and FlaskForm fields) masked."""
        super().init_app(app)
        app.jinja_env.globals["csrf_token"] = masked_csrf_token
        # Registered after Flask-WTF's context processor, so this one's csrf_token wins.
        app.context_processor(lambda: {"csrf_token": masked_csrf_token})
        # Every FlaskForm of the app (their Meta inherits FlaskForm.Meta's csrf_class).
        FlaskForm.Meta.csrf_class = MaskedFormCSRF

    def _get_csrf_token(self):
        """The token the request sent (form field or header), unmasked."""
        return unmask(super()._get_csrf_token())
