"""HTTPS: which proxy to believe, the session cookie's Secure flag per request, and files under
instance/ readable by their owner only (docs/decisions.md, docs/operations.md)."""
import os

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

HSTS = "max-age=31536000"  # one year; no includeSubDomains: the firm's other hosts are not ours to pin


def proxy_hops(config) -> int:
    """How many reverse proxies in front of us to believe (TRUSTED_PROXIES; PROXY_FIX=1 means one)."""
    try:
        hops = int(config.get("TRUSTED_PROXIES") or 0)
    except (TypeError, ValueError):
        raise ValueError("TRUSTED_PROXIES must be a whole number of proxies (0 = none)") from None
    if hops < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")
    return hops or (1 if config.get("PROXY_FIX") else 0)


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host only from the configured number of proxies (ProxyFix).
    Without that setting they are ignored: any client could send them."""
    hops = proxy_hops(app.config)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


class PerRequestSecureSession(SecureCookieSessionInterface):
    """The signed-cookie session, marked Secure whenever the request came over HTTPS (directly or
    through a trusted proxy) or SESSION_COOKIE_SECURE says always. Plain HTTP on the LAN (`make run`)
    still gets a cookie the browser sends back, so logging in there keeps working."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)

    def save_session(self, app: Flask, session, response) -> None:
        """As Flask saves it, except that a static file does not vary by cookie: Flask-Login reads the
        session after every request, which would add Vary: Cookie and keep a proxy or CDN from sharing
        the immutable, content-hashed files (nothing in them depends on who asks)."""
        if has_request_context() and request.endpoint == "static" and not session.modified:
            session.accessed = False
        super().save_session(app, session, response)


def owner_only_files(app: Flask) -> None:
    """Files and folders the app creates under instance/ (database and its -wal/-shm, uploads, mail,
    backups, the secret key) are readable by the server's user only: a umask of 077 for this process,
    and instance/ itself (and an SQLite database made earlier) tightened on start."""
    os.umask(os.umask(0o077) | 0o077)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    _tighten(app.instance_path, 0o700)


def tighten_sqlite(uri: str) -> None:
    """Make an existing SQLite database file (and its -wal/-shm) owner-only."""
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        return
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    for name in (path, path + "-wal", path + "-shm"):
        _tighten(name, 0o600)


def _tighten(path: str, mode: int) -> None:
    """chmod path to mode if it exists and is ours (another user's file is left as it is)."""
    try:
        if os.stat(path).st_uid == os.getuid():
            os.chmod(path, mode)
    except (FileNotFoundError, PermissionError):
        pass
