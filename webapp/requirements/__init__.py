"""Stage 1: the customer requirement record (客户需求记录表)."""
from flask import Blueprint

bp = Blueprint("requirements", __name__)
