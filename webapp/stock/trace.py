"""Tracing a lot through the ledger: forward, where it went (issues to work orders, shipments,
scrap), and backward, for a lot a work order made, which lots went into that work order and where
those came from (their receipts: purchase order number and supplier lot), level by level.

Everything is read from StockMove by work_order_id and doc_type/doc_ref: the production and shipping
records are higher domains this one does not import.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import Lot, StockMove

# A finished good made from sub-assemblies made from parts: deeper than any real product.
MAX_DEPTH = 6
# What leaves a lot for somewhere else (the forward trace lists these; the rest are corrections).
OUT_KINDS = ("issue", "return", "ship", "scrap")


@dataclass
class Source:
    """A lot that went into a work order: how much (issued less returned), where it came from, and
    (for a lot a work order made in turn) the lots that went into that one."""

    lot: Lot
    quantity: Decimal
    receipts: list[StockMove]
    inputs: list["Source"] = field(default_factory=list)


def forward(lot: Lot) -> list[StockMove]:
    """Where the lot went: its issues to work orders, returns, shipments and scrap, oldest first."""
    return list(db.session.scalars(
        db.select(StockMove).where(StockMove.lot_id == lot.id, StockMove.kind.in_(OUT_KINDS))
        .options(joinedload(StockMove.location), joinedload(StockMove.user))
        .order_by(StockMove.at, StockMove.id)))


def receipts(lot: Lot) -> list[StockMove]:
    """How the lot came in: its receipts (purchase order in doc_ref) and what a work order made."""
    return list(db.session.scalars(
        db.select(StockMove).where(StockMove.lot_id == lot.id, StockMove.kind.in_(("receipt", "produce", "opening")))
        .options(joinedload(StockMove.location)).order_by(StockMove.at, StockMove.id)))


def inputs_of(work_order_id: int, depth: int = 0, seen: frozenset = frozenset()) -> list[Source]:
    """The lots issued to a work order (net of returns), each with its receipts and, for a lot made by
    another work order, that work order's own inputs (to MAX_DEPTH levels, never round a loop)."""
    if depth >= MAX_DEPTH or work_order_id in seen:
        return []
    rows = db.session.execute(
        db.select(StockMove.lot_id, db.func.sum(StockMove.quantity))
        .where(StockMove.work_order_id == work_order_id, StockMove.kind.in_(("issue", "return")))
        .group_by(StockMove.lot_id).order_by(StockMove.lot_id)).all()
    if not rows:
        return []
    lots = {lot.id: lot for lot in db.session.scalars(
        db.select(Lot).where(Lot.id.in_([r[0] for r in rows])).options(joinedload(Lot.material)))}
    out = []
    for lot_id, total in rows:
        lot = lots[lot_id]
        source = Source(lot, -Decimal(total or 0), receipts(lot))
        maker = maker_of(lot)
        if maker is not None:
            source.inputs = inputs_of(maker, depth + 1, seen | {work_order_id})
        out.append(source)
    return out


def backward(lot: Lot) -> list[Source]:
    """Where a lot's material came from: for a lot a work order made, the lots issued to it (else none:
    a bought lot's origin is its receipt)."""
    maker = maker_of(lot)
    return [] if maker is None else inputs_of(maker)


def maker_of(lot: Lot) -> int | None:
    """The work order that made the lot: the order's it waits for, or (free stock a stocking
    instruction made) the one its "produce" movement names; None for a bought lot."""
    if lot.work_order_id is not None:
        return lot.work_order_id
    return db.session.scalar(db.select(StockMove.work_order_id).where(
        StockMove.lot_id == lot.id, StockMove.kind == "produce", StockMove.work_order_id.is_not(None)).limit(1))


def shipment_sources(shipment_id: int) -> list[Source]:
    """Where a shipment's material came from: the lots it shipped (doc_type "shipment"), each with its
    receipts and, for a lot a work order made, the lots that went into it."""
    rows = db.session.execute(
        db.select(StockMove.lot_id, db.func.sum(StockMove.quantity))
        .where(StockMove.doc_type == "shipment", StockMove.doc_id == shipment_id)
        .group_by(StockMove.lot_id).order_by(StockMove.lot_id)).all()
    out = []
    for lot_id, total in rows:
        lot = db.session.get(Lot, lot_id)
        out.append(Source(lot, -Decimal(total or 0), receipts(lot), backward(lot)))
    return out
