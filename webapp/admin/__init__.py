"""Admin pages: users and roles, devices, firm settings, working calendar."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
