"""Customers and the product catalogue."""
from flask import Blueprint

bp = Blueprint("customers", __name__)
