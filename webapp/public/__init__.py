"""Pages for customers on links (no account) and link QR images for staff."""
from flask import Blueprint

bp = Blueprint("public", __name__)
