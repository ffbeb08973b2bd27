"""HTTPS on the LAN: a local certificate authority, `flask serve-https`, and the page a phone installs it from."""
from flask import Blueprint

bp = Blueprint("tls", __name__)


def init_app(app) -> None:
    """Register the serve-https command."""
