"""Offline sync: devices, idempotent replays of the outbox, conflicts."""
from flask import Blueprint

bp = Blueprint("sync", __name__)
