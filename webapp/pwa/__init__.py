"""The installable app: manifest, service worker, offline page, the outbox page."""
from flask import Blueprint

bp = Blueprint("pwa", __name__)
