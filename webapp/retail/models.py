"""Where a retail order came from: the shop counter or an online shop (with the shop's own order
number, which makes an import idempotent), and whether it is delivered or picked up at a store."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

CHANNELS = ("counter", "online")


class RetailOrder(db.Model):
    """The retail side of an order (kind "retail"): channel, shop order number, receiver and store."""

    __table_args__ = (UniqueConstraint("shop_order_no", name="uq_retail_order_shop_order_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="counter")
    # The online shop's order number (None at the counter): one order per shop order, ever.
    shop_order_no: Mapped[str | None] = mapped_column(String(60))
    receiver_name: Mapped[str] = mapped_column(String(100), default="")
    receiver_phone: Mapped[str] = mapped_column(String(40), default="")
    store: Mapped[str] = mapped_column(String(100), default="")  # the store of a pickup
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    import_batch: Mapped[str] = mapped_column(Text, default="")  # the imported file's SHA-256

    order = relationship("Order")
