"""Products and their stock (work orders arrive in a later issue)."""
from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import Money, Quantity
from ..extensions import db


class Product(db.Model):
    """Something the firm makes or sells, with its on-hand stock (库存)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    list_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    on_hand: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    is_demo: Mapped[bool] = mapped_column(default=False)
