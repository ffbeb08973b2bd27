"""What shipping tells in an order's whole story (orders/story.py, registry.StoryPart): its
shipments' dispatch (with photos), problems and signed receipts, and the shipments and return cases it
recorded on the order; and the delivery evidence a ticket about the delivery is answered with."""
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..audit import AuditEvent
from ..extensions import db
from ..photos import Photo, photos_of
from ..registry import StoryPart
from ..templating import labelled, quantity
from .models import DeliveryReceipt, Shipment
from .services import is_problem, problem_text


def records(order) -> dict:
    """The order's shipments."""
    return {"shipment": {s.id: s for s in db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id))}}


def evidence(story) -> dict:
    """The shipments' signed receipts and the photos of dispatch, receipts and problems."""
    shipments = story.records["shipment"]
    receipts = {r.shipment_id: r for r in db.session.scalars(db.select(DeliveryReceipt).where(
        DeliveryReceipt.shipment_id.in_(list(shipments))))} if shipments else {}
    photos = {
        "dispatch": photos_of("dispatch", shipments),
        "receipt": photos_of("receipt", [r.id for r in receipts.values()]),
        "shipment_problem": photos_of("shipment_problem",
                                      [e.id for e in story.events if e.action == "shipment.problem"]),
    }
    stamped_ids = [r.stamped_photo_id for r in receipts.values() if r.stamped_photo_id]
    stamped = ({p.id: p for p in db.session.scalars(db.select(Photo).where(Photo.id.in_(stamped_ids)))}
               if stamped_ids else {})
    return {"receipts": receipts, "photos": photos, "stamped": stamped,
            "by_number": {s.number: s for s in shipments.values()}}


def _shipment_url(story, shipment) -> str | None:
    return url_for("shipping.detail", shipment_id=shipment.id) if story.may("shipment.view") else None


def describe(entry, event: AuditEvent, data: dict, story) -> None:
    """The courier's dispatch and problems, and the customer's receipt, with notes and photos; the
    shipments made and the return cases opened and closed, recorded on the order."""
    mine = story.parts["shipping"]
    if event.entity_type == "order":
        _order_event(entry, event, data, story, mine)
        return
    shipment = story.records["shipment"][event.entity_id]
    entry.subject, entry.url = shipment.number, _shipment_url(story, shipment)
    if event.action == "shipment.dispatch":
        entry.photos = mine["photos"]["dispatch"].get(shipment.id, [])
        how = " ".join(part for part in (shipment.carrier, shipment.tracking_no) if part)
        if how:
            entry.details.append(how)
    elif event.action == "shipment.deliver":
        receipt = mine["receipts"].get(shipment.id)
        if receipt is not None:
            entry.details += receipt_words(receipt)
            stamped = mine["stamped"].get(receipt.stamped_photo_id)
            entry.photos = ([stamped] if stamped else []) + mine["photos"]["receipt"].get(receipt.id, [])
    elif event.action == "shipment.problem":
        entry.photos = mine["photos"]["shipment_problem"].get(event.id, [])
    elif event.action == "shipment.line_checked":
        entry.details.append(_line_words(data))


def _order_event(entry, event: AuditEvent, data: dict, story, mine: dict) -> None:
    shipment = mine["by_number"].get(data.get("shipment"))
    if shipment is not None:
        entry.subject, entry.url = shipment.number, _shipment_url(story, shipment)
    if event.action == "return.opened":
        # what went wrong in the reader's language, from the signed receipt (the stored reason is
        # in the signer's)
        receipt = mine["receipts"].get(shipment.id) if shipment is not None else None
        problems = _problems(receipt) if receipt is not None else []
        entry.details += problems or ([data["reason"]] if data.get("reason") else [])


def _line_words(data: dict) -> str:
    text = f"{data.get('model', '')} × {quantity(data.get('quantity'))}"
    return f"{text} · {labelled(_('Batch'), data['batch'])}" if data.get("batch") else text


def receipt_words(receipt) -> list[str]:
    """Who signed, where, and what was wrong (damage, shortfall) in the reader's language."""
    signer = receipt.signer_name
    if receipt.signer_relation:
        signer = _("%(text)s (%(aside)s)", text=signer, aside=receipt.signer_relation)
    words = [labelled(_("Signed by"), signer)]
    if receipt.taken_on == "courier":
        words.append(_("signed on the courier's phone"))
    return words + _problems(receipt)


def _problems(receipt) -> list[str]:
    """Each damaged, missing or short line of a receipt in words, in the reader's language."""
    return [problem_text(line) for line in receipt.lines if is_problem(line)]


def delivery_evidence(order_id: int) -> list[dict]:
    """The order's signed receipts that carry photos or a problem: what a ticket about the delivery is
    answered with (shipment, signer, problems in words, photos)."""
    receipts = db.session.scalars(db.select(DeliveryReceipt).join(Shipment).where(Shipment.order_id == order_id)
                                  .options(joinedload(DeliveryReceipt.shipment)).order_by(DeliveryReceipt.id)).all()
    photos = photos_of("receipt", [r.id for r in receipts])
    out = []
    for receipt in receipts:
        if not photos[receipt.id] and not receipt.has_exception:
            continue
        out.append({"shipment": receipt.shipment, "receipt": receipt, "words": receipt_words(receipt),
                    "photos": photos[receipt.id]})
    return out


PART = StoryPart(records=records, evidence=evidence, describe=describe,
                 order_events=frozenset({"shipment.created", "return.opened", "return.closed"}))
