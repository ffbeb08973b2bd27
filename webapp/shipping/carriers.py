"""The firm's carriers and own vehicles, the pickups booked with them, and each carrier's record."""
from dataclasses import dataclass
from datetime import date, time

from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..i18n import firm_zone
from ..statemachine import N_, TransitionError
from .models import Carrier, DeliveryReceipt, Pickup, ReceiptLine, Shipment, Vehicle

# Words in a receipt line's note that say the goods arrived damaged although the line was signed
# "in good order" (the customer signed and wrote the damage down).
DAMAGE_WORDS = ("damage", "broken", "crush", "dent", "scratch", "破损", "损坏", "磕", "压坏", "划伤", "受潮", "变形")

# Known carriers' codes, for free text typed before the list existed (the migration reads it too).
KNOWN_CODES = (("顺丰", "SF"), ("SF ", "SF"), ("中通", "ZTO"), ("京东", "JD"), ("圆通", "YTO"), ("韵达", "YUNDA"),
               ("申通", "STO"), ("EMS", "EMS"), ("邮政", "EMS"), ("德邦", "DBL"), ("DHL", "DHL"), ("FedEx", "FEDEX"),
               ("UPS", "UPS"))


def guess_code(name: str) -> str:
    """The tracking code a carrier's name suggests ("" when none does)."""
    padded = f"{name} "
    return next((code for word, code in KNOWN_CODES if word.lower() in padded.lower()), "")


@dataclass
class Record:
    """A carrier's record over its delivered shipments."""

    delivered: int = 0
    on_time: int = 0
    damaged: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share delivered by the promised date (None before any delivery)."""
        return self.on_time / self.delivered if self.delivered else None

    @property
    def damage_rate(self) -> float | None:
        """Share delivered with damage."""
        return self.damaged / self.delivered if self.delivered else None


def _promised(eta: date | None, delivery_date: date | None, revised: date | None) -> date | None:
    """The date a shipment was promised for: its ETA, else the order's (revised) delivery date."""
    return eta or revised or delivery_date


def records() -> dict[int, Record]:
    """Each carrier's record: of its delivered shipments, how many arrived by the promised date (the
    shipment's ETA, else the order's date; the day counted in the firm's zone) and how many were
    signed for damaged (a line's condition, or damage written in its note)."""
    from ..orders import Order
    damaged_lines = (db.select(ReceiptLine.receipt_id).where(db.or_(
        ReceiptLine.condition == "damaged",
        *[ReceiptLine.note.ilike(f"%{word}%") for word in DAMAGE_WORDS])))
    rows = db.session.execute(
        db.select(Shipment.carrier_id, Shipment.delivered_at, Shipment.eta, Order.delivery_date, Order.revised_date,
                  DeliveryReceipt.id.in_(damaged_lines))
        .join(Order, Order.id == Shipment.order_id)
        .join(DeliveryReceipt, DeliveryReceipt.shipment_id == Shipment.id)
        .where(Shipment.carrier_id.is_not(None), Shipment.delivered_at.is_not(None))).all()
    zone = firm_zone()
    out: dict[int, Record] = {}
    for carrier_id, delivered_at, eta, delivery_date, revised, damaged in rows:
        record = out.setdefault(carrier_id, Record())
        record.delivered += 1
        promised = _promised(eta, delivery_date, revised)
        if promised is None or delivered_at.astimezone(zone).date() <= promised:
            record.on_time += 1
        if damaged:
            record.damaged += 1
    return out


def percent(rate: float | None) -> str:
    """A rate as a whole percentage, "—" without data."""
    return "—" if rate is None else f"{round(rate * 100)}%"


def carrier_label(carrier: Carrier, record: Record | None) -> str:
    """How a carrier shows where the firm picks one: "顺丰 · 准时 96% · 破损 1%"."""
    if record is None or not record.delivered:
        return _("%(name)s · no deliveries yet", name=carrier.name)
    return _("%(name)s · on time %(on_time)s · damaged %(damaged)s", name=carrier.name,
             on_time=percent(record.on_time_rate), damaged=percent(record.damage_rate))


def vehicle_label(vehicle: Vehicle) -> str:
    """An own vehicle as a choice: "Own vehicle 粤B·12345 (马师傅)"."""
    driver = vehicle.driver_label
    return (_("Own vehicle %(plate)s (%(driver)s)", plate=vehicle.plate, driver=driver) if driver
            else _("Own vehicle %(plate)s", plate=vehicle.plate))


def choices(keep: tuple[int | None, int | None] = (None, None)) -> list[tuple[str, str]]:
    """Who may carry a shipment, as select options: "c<id>" a carrier (with its record), "v<id>" an own
    vehicle; active ones, and keep's (carrier id, vehicle id) even when no longer active."""
    keep_carrier, keep_vehicle = keep
    carriers = db.session.scalars(db.select(Carrier).where(db.or_(Carrier.active.is_(True), Carrier.id == keep_carrier))
                                  .order_by(Carrier.name)).all()
    vehicles = db.session.scalars(db.select(Vehicle).where(db.or_(Vehicle.active.is_(True), Vehicle.id == keep_vehicle))
                                  .order_by(Vehicle.plate)).all()
    known = records()
    return ([("", _("— none / typed below —"))] + [(f"c{c.id}", carrier_label(c, known.get(c.id))) for c in carriers]
            + [(f"v{v.id}", vehicle_label(v)) for v in vehicles])


def parse_choice(value: str | None) -> tuple[Carrier | None, Vehicle | None]:
    """The carrier or own vehicle a choice names; 409 for one that does not exist or is inactive."""
    value = (value or "").strip()
    if not value:
        return None, None
    kind, raw = value[:1], value[1:]
    model = {"c": Carrier, "v": Vehicle}.get(kind)
    if model is None or not raw.isdigit() or len(raw) > 9:
        raise TransitionError(409, N_("Choose a carrier or vehicle from the list."))
    row = db.session.get(model, int(raw))
    if row is None or not row.active:
        raise TransitionError(409, N_("Choose a carrier or vehicle from the list."))
    return (row, None) if kind == "c" else (None, row)


def carrier_text(carrier: Carrier | None, vehicle: Vehicle | None, typed: str) -> str:
    """What the shipment's text field keeps: the carrier's name, the vehicle's plate, else what was typed."""
    if carrier is not None:
        return carrier.name
    if vehicle is not None:
        return vehicle_label(vehicle)
    return typed


def set_carrier(shipment: Shipment, carrier: Carrier | None, vehicle: Vehicle | None, typed: str,
                tracking_no: str, user) -> None:
    """Who carries the shipment and its tracking number (until it is delivered)."""
    if shipment.status in ("delivered", "delivered_with_exception"):
        raise TransitionError(409, N_("This shipment is delivered: its carrier no longer changes."))
    before = {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no}
    shipment.carrier_id = carrier.id if carrier else None
    shipment.vehicle_id = vehicle.id if vehicle else None
    shipment.carrier = carrier_text(carrier, vehicle, typed)[:100]
    shipment.tracking_no = tracking_no[:100]
    audit.record("shipment.carrier", shipment, actor=user, before=before,
                 after={"carrier": shipment.carrier, "tracking_no": shipment.tracking_no})


def check_window(on_date: date, window_from: time, window_to: time) -> None:
    """A pickup's window runs forward (from before to)."""
    if window_from >= window_to:
        raise TransitionError(409, N_("The pickup window must end after it starts."))


def book_pickup(user, on_date: date, window_from: time, window_to: time, *, shipment: Shipment | None = None,
                case=None, carrier: Carrier | None = None, vehicle: Vehicle | None = None, tracking_no: str = "",
                note: str = "") -> Pickup:
    """Book a pickup of a shipment (replacing its earlier booking not yet done) or of a return case's goods."""
    check_window(on_date, window_from, window_to)
    subject = shipment if shipment is not None else case
    for old in (subject.pickups if case is not None else pickups_of(shipment)):
        if old.done_at is None:
            db.session.delete(old)
    pickup = Pickup(shipment_id=shipment.id if shipment else None, return_case_id=case.id if case else None,
                    carrier_id=carrier.id if carrier else None, vehicle_id=vehicle.id if vehicle else None,
                    tracking_no=tracking_no[:100], on_date=on_date, window_from=window_from, window_to=window_to,
                    note=note, booked_by_id=user.id)
    db.session.add(pickup)
    db.session.flush()
    audit.record("pickup.booked", shipment if shipment is not None else case.order, actor=user,
                 entity_type="shipment" if shipment is not None else "order",
                 after={"on": on_date.isoformat(), "from": window_from.strftime("%H:%M"),
                        "to": window_to.strftime("%H:%M"), "case": case.id if case else None,
                        "carrier": carrier.name if carrier else (vehicle.plate if vehicle else "")})
    return pickup


def pickups_of(shipment: Shipment) -> list[Pickup]:
    """A shipment's pickups, the newest first."""
    return db.session.scalars(db.select(Pickup).where(Pickup.shipment_id == shipment.id)
                              .order_by(Pickup.id.desc())).all()


def pending_pickup(shipment: Shipment) -> Pickup | None:
    """The shipment's booked pickup, while the goods have not left."""
    if shipment.status not in ("packing", "packed"):
        return None
    return next((p for p in pickups_of(shipment) if p.done_at is None), None)


def who_label(pickup: Pickup) -> str:
    """Who comes for a pickup."""
    if pickup.carrier is not None:
        return pickup.carrier.name
    if pickup.vehicle is not None:
        return vehicle_label(pickup.vehicle)
    return ""

carrier_records = records


def booked_for(shipment_ids: list[int]) -> dict[int, Pickup]:
    """The pickups booked and not yet made for these shipments while they are still in the warehouse."""
    if not shipment_ids:
        return {}
    rows = db.session.scalars(db.select(Pickup).join(Shipment, Shipment.id == Pickup.shipment_id).where(
        Pickup.shipment_id.in_(shipment_ids), Pickup.done_at.is_(None), Shipment.status.in_(("packing", "packed")))
        .order_by(Pickup.id)).all()
    return {row.shipment_id: row for row in rows}
