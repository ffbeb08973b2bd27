"""A shipment's way to the customer: transit events told by the courier's link, by staff or by a
carrier's tracking service (tracking.py), each stored once, and the customer told of the ones that
matter (a failed delivery attempt, delivered)."""
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..notify import Recipient, notify
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from . import lifecycle, notices  # noqa: F401  (notices: the messages notify() sends)
from .forms import KIND_LABELS, REASON_LABELS, SOURCE_LABELS  # noqa: F401  (the labels pages show)
from .models import ATTEMPT_REASONS, EVENT_KINDS, EVENT_SOURCES, Shipment, ShipmentEvent

# A phone's clock a little ahead of the server's is taken as now; further ahead it is refused.
CLOCK_SKEW = timedelta(minutes=10)
# The events the customer is told about, by mail (and the notify event of each).
TOLD = {"attempt_failed": "shipment.attempt_failed", "delivered": "shipment.arrived"}


def events_of(shipment_ids) -> dict[int, list[ShipmentEvent]]:
    """Each shipment's transit events, earliest first (by when they happened, not when they arrived:
    a phone's queue may send them late and out of order)."""
    ids = list(shipment_ids)
    out: dict[int, list[ShipmentEvent]] = {i: [] for i in ids}
    if not ids:
        return out
    for event in db.session.scalars(db.select(ShipmentEvent).where(ShipmentEvent.shipment_id.in_(ids))
                                    .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)):
        out[event.shipment_id].append(event)
    return out


def add_event(shipment: Shipment, kind: str, source: str, *, occurred_at: datetime | None = None,
              reason: str = "", place: str = "", note: str = "", user=None,
              dedupe_key: str | None = None) -> tuple[ShipmentEvent, bool]:
    """Record a transit event on a shipment that has left (409 before it left); (the event, whether it
    is new). An event with a dedupe_key already stored on this shipment (a replay, a carrier event
    polled again) is the stored one, not a second row, and tells nobody again."""
    if kind not in EVENT_KINDS or source not in EVENT_SOURCES:
        raise TransitionError(422, N_("Choose what happened."))
    if kind == "attempt_failed" and reason not in ATTEMPT_REASONS:
        raise TransitionError(422, N_("Choose why the delivery attempt failed."))
    if kind != "attempt_failed":
        reason = ""
    if shipment.status not in lifecycle.LEFT:
        raise TransitionError(409, N_("This shipment has not left yet: confirm the pickup first."))
    now = utcnow()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise TransitionError(422, N_("The time of the event is in the future."))
    occurred_at = min(occurred_at, now)
    if dedupe_key:
        known = _known(shipment.id, dedupe_key)
        if known is not None:
            return known, False
    event = ShipmentEvent(shipment_id=shipment.id, kind=kind, reason=reason, occurred_at=occurred_at,
                          place=place[:200], note=note, source=source, user_id=user.id if user else None,
                          dedupe_key=dedupe_key)
    try:
        # Two replays of one key at once: the unique constraint lets one in; the other reads it.
        with db.session.begin_nested():
            db.session.add(event)
            db.session.flush()
    except IntegrityError:
        known = _known(shipment.id, dedupe_key) if dedupe_key else None
        if known is None:
            raise
        return known, False
    audit.record("shipment.event", shipment, actor=user,
                 actor_kind="link" if source == "courier" else ("system" if source == "carrier" else None),
                 actor_label="courier" if source == "courier" else None, note=note or None,
                 after={"kind": kind, "reason": reason, "place": place, "source": source,
                        "occurred_at": occurred_at.isoformat()})
    if kind in TOLD:
        order = shipment.order
        notify(TOLD[kind], [Recipient.customer_of(order)], order=order, shipment=shipment, transit_event=event)
    return event, True


def _known(shipment_id: int, dedupe_key: str) -> ShipmentEvent | None:
    return db.session.scalar(db.select(ShipmentEvent).where(
        ShipmentEvent.shipment_id == shipment_id, ShipmentEvent.dedupe_key == dedupe_key))

