"""Stage 4: shipments, packing lists, the courier's link, the customer's signed receipt, return cases."""
from flask import Blueprint

bp = Blueprint("shipping", __name__)
