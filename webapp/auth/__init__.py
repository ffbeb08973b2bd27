"""Logins, device sessions and the worker switch on shared phones."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
