"""Stage 6: the cost sheet (成本核算表) and closing the order."""
from flask import Blueprint

bp = Blueprint("costing", __name__)
