"""Stage 3: products and stock, work orders, the floor's progress reports and anomalies."""
from flask import Blueprint

bp = Blueprint("production", __name__)
