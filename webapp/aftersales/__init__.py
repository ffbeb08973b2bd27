"""Stage 5: follow-ups, tickets and satisfaction surveys."""
from flask import Blueprint

bp = Blueprint("aftersales", __name__)
