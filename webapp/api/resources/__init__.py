"""The API's operations, one module per part of the business (each declares its own with core.operation)."""
from . import customers, delivery, kpis, money, orders, production, requirements, stock  # noqa: F401  (operations)
