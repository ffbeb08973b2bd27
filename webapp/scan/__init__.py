"""The in-app scanner: continuous scanning for packing, and for installed apps."""
from flask import Blueprint

bp = Blueprint("scan", __name__)
