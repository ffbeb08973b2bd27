"""Helpers for the API tests: a token for a user, and a client that sends it."""
from webapp.api.core import new_token_secret
from webapp.api.models import ApiToken
from webapp.auth import hash_secret
from webapp.extensions import db


def make_token(app, user_id: int, scope: str = "write", **extra) -> str:
    """A live API token of user_id (the secret, as its owner would copy it)."""
    secret = new_token_secret()
    with app.app_context():
        db.session.add(ApiToken(user_id=user_id, name="test", scope=scope, secret_hash=hash_secret(secret),
                                prefix=secret[:10], **extra))
        db.session.commit()
    return secret


class ApiClient:
    """The test client with `Authorization: Bearer <token>` on every request."""

    def __init__(self, app, token: str | None):
        self.client, self.token = app.test_client(), token

    def _headers(self, headers):
        out = {"Accept": "application/json"}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        out.update(headers or {})
        return out

    def get(self, path, headers=None, **kwargs):
        """GET with the token."""
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        """POST JSON with the token."""
        return self.client.post(path, json=json, headers=self._headers(headers), csrf=False, **kwargs)
