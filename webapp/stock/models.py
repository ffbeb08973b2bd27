"""Materials, bills of materials, locations, lots, and the stock ledger (movements and the per-lot
balance rows they keep)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Fine, Money, Percent, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class Location(db.Model):
    """A place stock is kept (a warehouse, a shelf zone, the floor's staging area)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)


class Material(db.Model):
    """Something stocked (物料): a raw material, a bought part, or a product the firm makes (its
    finished goods and sub-assemblies, then product_id is set). Counted in its stock unit, bought in
    its purchase unit: purchase_factor stock units make one purchase unit.

    The moving-average valuation lives here (docs/decisions.md): valued_qty and value are the firm's
    own stock of it (customer-supplied stock is never valued), avg_cost = value / valued_qty."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    stock_unit: Mapped[str] = mapped_column(String(20), default="pcs")
    purchase_unit: Mapped[str] = mapped_column(String(20), default="pcs")
    purchase_factor: Mapped[Decimal] = mapped_column(Fine, default=Decimal("1"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), unique=True)
    # 客供料: material the customer supplies; its lots are the customer's, never the firm's value.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    # Whether every received lot waits for incoming inspection before it may be issued.
    inspect_on_receipt: Mapped[bool] = mapped_column(default=False)
    valued_qty: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    avg_cost: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    # The last price paid per stock unit: what a receipt without a price is valued at.
    last_cost: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product = relationship("Product")
    customer = relationship("Customer")


class BomVersion(db.Model):
    """One version of a product's bill of materials; a change makes a new version, the old one is
    kept (work orders keep the version they were released with)."""

    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    current: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product = relationship("Product")
    created_by = relationship("User")
    lines: Mapped[list["BomLine"]] = relationship(back_populates="bom", order_by="BomLine.position",
                                                  cascade="all, delete-orphan")


class BomLine(db.Model):
    """A material (or a sub-assembly's stock) per unit of the product, with a scrap allowance."""

    id: Mapped[int] = mapped_column(primary_key=True)
    bom_id: Mapped[int] = mapped_column(ForeignKey("bom_version.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"))
    quantity_per: Mapped[Decimal] = mapped_column(Fine)
    scrap_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))

    bom: Mapped[BomVersion] = relationship(back_populates="lines")
    material: Mapped[Material] = relationship()

    def need_for(self, quantity: Decimal) -> Decimal:
        """What quantity units of the product take of this material, scrap allowance included."""
        need = quantity * self.quantity_per * (1 + self.scrap_percent / 100)
        return need.quantize(Decimal("0.000001"))


LOT_STATES = ("available", "quarantine", "blocked")


class Lot(db.Model):
    """A lot or batch of one material (炉号 for metals): where it came from is in its movements."""

    __table_args__ = (UniqueConstraint("material_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    # The secret in the lot label's QR (labels carry a secret, never the row id).
    token: Mapped[str] = mapped_column(String(40), unique=True)
    # quarantine: waiting for incoming inspection; blocked: failed it (or held); neither may be issued.
    status: Mapped[str] = mapped_column(String(12), default="available")
    supplier_lot: Mapped[str] = mapped_column(String(60), default="")
    # The work order that made it (finished goods and sub-assemblies).
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship()
    balances: Mapped[list["StockBalance"]] = relationship(back_populates="lot")

    @property
    def on_hand(self) -> Decimal:
        """Its quantity in every location."""
        return sum((b.on_hand for b in self.balances), Decimal("0"))


class StockBalance(db.Model):
    """What one lot has in one location: changed only with a movement, under a row lock, and equal
    to the sum of the lot's movements there (tests/test_stock_ledger.py reconciles them)."""

    __table_args__ = (UniqueConstraint("lot_id", "location_id"),
                      CheckConstraint("on_hand >= 0", name="balance_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    on_hand: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))

    lot: Mapped[Lot] = relationship(back_populates="balances")
    location: Mapped[Location] = relationship()


MOVE_KINDS = ("receipt", "issue", "return", "scrap", "adjust", "count", "ship", "produce", "opening")


class StockMove(db.Model):
    """One movement of the ledger: append-only. quantity is signed (in > 0, out < 0) in the
    material's stock unit; value is signed, in fen, at the moving average (0 for customer-supplied)."""

    __table_args__ = (Index("ix_stock_move_doc", "doc_type", "doc_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[Decimal] = mapped_column(Fine)
    unit_cost: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # What the movement belongs to: a purchase-order line, a work order, a shipment, a stocktake,
    # an inspection (doc_type, doc_id), with its number as people read it (doc_ref).
    doc_type: Mapped[str] = mapped_column(String(20), default="")
    doc_id: Mapped[int | None] = mapped_column()
    doc_ref: Mapped[str] = mapped_column(String(60), default="")
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()
    user = relationship("User")


class Reservation(db.Model):
    """Material a released work order holds: quantity by its BOM, less what has been issued to it."""

    __table_args__ = (UniqueConstraint("work_order_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Fine)
    issued: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    # Released when the work order is done or cancelled: what was not issued is free again.
    closed: Mapped[bool] = mapped_column(default=False)

    material: Mapped[Material] = relationship()

    @property
    def open(self) -> Decimal:
        """What it still holds."""
        return Decimal("0") if self.closed else max(self.quantity - self.issued, Decimal("0"))


STOCKTAKE_STATES = ("counting", "submitted", "posted")


class Stocktake(db.Model):
    """A count (盘点) of one location: the expected quantities are taken when it starts, the counts
    typed or scanned, and the differences posted as movements once approved."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(12), default="counting")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship()
    created_by = relationship("User", foreign_keys=[created_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])
    lines: Mapped[list["StocktakeLine"]] = relationship(back_populates="stocktake", order_by="StocktakeLine.id",
                                                        cascade="all, delete-orphan")


class StocktakeLine(db.Model):
    """One lot on the count sheet: expected, counted, and the reason for a difference."""

    __table_args__ = (UniqueConstraint("stocktake_id", "lot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktake.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    expected: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    counted: Mapped[Decimal | None] = mapped_column(Fine)
    reason: Mapped[str] = mapped_column(Text, default="")
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    stocktake: Mapped[Stocktake] = relationship(back_populates="lines")
    lot: Mapped[Lot] = relationship()

    @property
    def difference(self) -> Decimal | None:
        """Counted less expected (None until counted)."""
        return None if self.counted is None else self.counted - self.expected
