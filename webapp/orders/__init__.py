"""Stage 2: order terms, feasibility review, approval, countersignature, amendments, payments."""
from flask import Blueprint

bp = Blueprint("orders", __name__)
