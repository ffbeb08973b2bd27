"""What happens to a service project: its deliverables, progress reports, the customer's acceptance
and the rework a rejection opens. Every deliverable's status change goes through lifecycle.MACHINE."""
import json
from datetime import date
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _

from .. import audit, links, signals, uploads
from ..clocks import Clock
from ..db_types import money
from ..extensions import db
from ..fingerprints import canonical_json, sha256_of
from ..firm import get_settings
from ..notify import Recipient, notify
from ..orders import Order, OrderLine
from ..orders import lifecycle as order_lifecycle
from ..photos import save_photos
from ..signatures import parse_strokes, render_svg
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, notices  # noqa: F401  (notices: the messages notify() sends)
from .models import (Acceptance, AcceptanceDecision, Deliverable, DeliverableFile, DeliverableReport, Milestone,
                     ReworkCase)

ACCEPTANCE_CONSENT_VERSION = "2026-11"
# A rejected deliverable is reworked and handed over again within 3 working days.
REWORK = Clock("rework", 3, "days", True)


def create_project(customer, user, *, delivery_date: date | None, customer_po: str, notes: str,
                   deliverables: list[dict]) -> Order:
    """A draft order of kind "project": one order line and one deliverable per entry (title, due date,
    price without tax, milestones as a list of titles); it then goes through review, approval and the
    customer's countersignature as any order does."""
    if not deliverables:
        raise TransitionError(409, N_("Add at least one deliverable."))
    settings = get_settings()
    order = Order(customer=customer, sales_rep_id=user.id, kind="project", currency=customer.currency,
                  tax_rate=settings.tax_rate, prepayment_pct=customer.prepayment_pct,
                  credit_days=customer.credit_days, delivery_date=delivery_date, delivery_place=customer.address,
                  delivery_method="delivery", customer_po=customer_po, notes=notes)
    db.session.add(order)
    factor = 1 + order.tax_rate / 100
    with force_locale(customer.locale or "zh"):  # the terms are in the customer's language
        unit = _("item")
    for position, entry in enumerate(deliverables, start=1):
        price = entry.get("price") or Decimal("0")
        title = entry["title"]
        # the line's model holds 60 characters: a longer title goes whole into the description
        line = OrderLine(position=position, model=title[:60], description=title[:200] if len(title) > 60 else "",
                         quantity=Decimal("1"), unit=unit, unit_price=money(price),
                         unit_price_incl=money(price * factor))
        order.lines.append(line)
        deliverable = Deliverable(order=order, position=position, title=entry["title"][:200],
                                  description=entry.get("description", ""), due_date=entry.get("due_date"))
        deliverable.milestones = [Milestone(position=i, title=title[:200], due_date=due)
                                  for i, (title, due) in enumerate(entry.get("milestones", []), start=1)]
        db.session.add(deliverable)
        db.session.flush()
        deliverable.order_line_id = line.id
    order.total_excl = sum((line.amount for line in order.lines), Decimal("0"))
    order.total = sum((line.amount_incl for line in order.lines), Decimal("0"))
    order.total_tax = order.total - order.total_excl
    db.session.flush()
    audit.record("order.created", order, actor=user, after={**order.terms(), "kind": "project"})
    return order


def deliverables_of(order_id: int) -> list[Deliverable]:
    """The project's deliverables in their order."""
    return db.session.scalars(db.select(Deliverable).where(Deliverable.order_id == order_id)
                              .order_by(Deliverable.position)).all()


def report_progress(deliverable: Deliverable, percent: int, note: str, files, user, milestone=None,
                    documents=()) -> DeliverableReport:
    """Staff report how far a deliverable is (0–100 %), with a note, photos or scans, and documents
    handed over (PDF, Office files: uploads.store checks their type); a milestone reported at 100 % is done."""
    if deliverable.status == "accepted":
        raise TransitionError(409, N_("This deliverable has already been accepted."))
    if deliverable.order.status in order_lifecycle.ENDED:
        raise TransitionError(409, N_("This order is not in a state that allows this."))
    report = DeliverableReport(deliverable=deliverable, percent=percent, note=note, user_id=user.id,
                               milestone=milestone)
    db.session.add(report)
    db.session.flush()
    save_photos(files, "deliverable_report", report.id, user)
    for upload in [d for d in documents if d and d.filename]:
        stored = uploads.store(upload)
        report.files.append(DeliverableFile(filename=stored.filename, stored_name=stored.stored_name,
                                            content_type=stored.content_type, size=stored.size, sha256=stored.sha256))
    deliverable.progress_pct = percent
    if milestone is not None and percent == 100 and milestone.done_at is None:
        milestone.done_at = utcnow()
    audit.record("deliverable.progress", deliverable.order, actor=user, entity_type="order", note=note or None,
                 after={"deliverable": deliverable.title, "percent": percent,
                        "milestone": milestone.title if milestone else None})
    return report


def send_acceptance_link(order: Order, user) -> links.AccessLink:
    """Issue the customer's acceptance link (replacing any live one) for an effective project."""
    if order.kind != "project" or order.status != "effective":
        raise TransitionError(409, N_("The customer can accept a project's deliverables once the order is effective."))
    link = links.issue("project_acceptance", order.id, days=60)
    audit.record("order.acceptance_link", order, actor=user)
    _ask_customer(order, link)
    return link


def _ask_customer(order: Order, link) -> None:
    """Mail the customer's contact the acceptance link, in their language."""
    notify("project.acceptance_requested", [Recipient.customer_of(order)], order=order, link=link)


def acceptance_consent_text() -> str:
    """What the customer agrees to when accepting or rejecting deliverables."""
    return _("I have checked the deliverables above and my decisions are as marked. My typed name and the "
             "signature I draw here sign this acceptance electronically. The firm keeps my name, signature, "
             "comments, the time, my IP address and device type as proof of acceptance for %(years)s years, "
             "and uses them for no other purpose.", years=get_settings().retention_years)


def decide(order: Order, link, decisions: dict[int, tuple[str, str]], signer_name: str, strokes_raw: str,
           ip: str, user_agent: str) -> Acceptance:
    """Record the customer's signed decisions ({deliverable id: ("accept" | "reject", comment)}).

    A deliverable already accepted is refused (409, nothing recorded); a rejection needs a comment and
    opens a rework case due in REWORK working time; with every deliverable accepted the order is
    delivered (as a fully signed-for order is) and the link becomes the customer's copy."""
    if order.kind != "project" or order.status != "effective":
        raise TransitionError(409, N_("This project is not awaiting acceptance."))
    by_id = {d.id: d for d in deliverables_of(order.id)}
    if not decisions:
        raise TransitionError(409, N_("Accept or reject at least one deliverable."))
    for deliverable_id, (decision, comment) in decisions.items():
        deliverable = by_id.get(deliverable_id)
        if deliverable is None:
            raise TransitionError(404, N_("This deliverable is not part of this project."))
        if deliverable.status == "accepted":
            raise TransitionError(409, N_("“%(title)s” has already been accepted."), title=deliverable.title)
        if deliverable.status == "rework":
            raise TransitionError(409, N_("“%(title)s” is being reworked; it can be checked once it is handed over again."),
                                  title=deliverable.title)
        if decision == "reject" and not comment.strip():
            raise TransitionError(422, N_("Say what is wrong with “%(title)s” when you reject it."),
                                  title=deliverable.title)
    strokes = parse_strokes(strokes_raw)
    record = [{"deliverable": by_id[i].title, "position": by_id[i].position, "decision": d, "comment": c}
              for i, (d, c) in sorted(decisions.items(), key=lambda item: by_id[item[0]].position)]
    signed = {"order": order.number, "decisions": record}
    acceptance = Acceptance(order_id=order.id, link_id=link.id, signer_name=signer_name,
                            strokes_json=json.dumps(strokes), signature_svg=render_svg(strokes),
                            consent_text=acceptance_consent_text(), consent_version=ACCEPTANCE_CONSENT_VERSION,
                            decisions_json=canonical_json(signed), sha256=sha256_of(signed),
                            ip_address=ip[:64], user_agent=user_agent[:300])
    db.session.add(acceptance)
    db.session.flush()
    now = utcnow()
    for deliverable_id, (decision, comment) in decisions.items():
        deliverable = by_id[deliverable_id]
        acceptance.decisions.append(AcceptanceDecision(deliverable_id=deliverable_id, decision=decision,
                                                       comment=comment.strip()))
        transition(deliverable, lifecycle.MACHINE, decision, roles={"customer"}, actor_kind="link",
                   actor_label=signer_name, note=comment.strip() or None, detail={"title": deliverable.title})
        if decision == "accept":
            deliverable.accepted_at, deliverable.progress_pct = now, 100
        else:
            db.session.add(ReworkCase(deliverable_id=deliverable.id, order_id=order.id, reason=comment.strip(),
                                      opened_at=now, due_at=REWORK.due(now)))
            audit.record("rework.opened", order, actor_kind="link", actor_label=signer_name, entity_type="order",
                         note=comment.strip(), after={"deliverable": deliverable.title})
            notify("project.deliverable_rejected", [Recipient.user(order.sales_rep)], order=order,
                   title=deliverable.title, comment=comment.strip())
    db.session.flush()
    open_count = sum(1 for d in by_id.values() if d.status != "accepted")
    if open_count == 0:
        move = order_lifecycle.MACHINE.check(order, "accept_all", {"system"}, context={"open_deliverables": 0})
        transition(order, order_lifecycle.MACHINE, "accept_all", roles={"system"}, actor_kind="system", checked=move)
        link.used_at = now
        signals.receipt_signed.send(order, signed_at=acceptance.signed_at)  # after-sales plans its follow-up
        signals.order_delivered.send(order)  # after-sales sends the survey
    return acceptance


def open_rework(deliverable: Deliverable) -> ReworkCase | None:
    """The deliverable's open rework case, if any."""
    return db.session.scalars(db.select(ReworkCase).where(ReworkCase.deliverable_id == deliverable.id,
                                                          ReworkCase.status == "open")).first()


def hand_over(deliverable: Deliverable, user, note: str) -> None:
    """The rework is done: the deliverable awaits the customer's acceptance again (on the same link)."""
    transition(deliverable, lifecycle.MACHINE, "hand_over", user, note=note or None,
               detail={"title": deliverable.title})
    case = open_rework(deliverable)
    if case is not None:
        case.status, case.done_at, case.done_by_id, case.done_note = "done", utcnow(), user.id, note
        audit.record("rework.done", deliverable.order, actor=user, entity_type="order", note=note or None,
                     after={"deliverable": deliverable.title, "late": case.done_at > case.due_at})
    link = links.current("project_acceptance", deliverable.order_id)
    if link is not None:  # the same link: the customer checks the reworked deliverable there
        _ask_customer(deliverable.order, link)


def rework_cases(order_id: int) -> list[ReworkCase]:
    """The project's rework cases, oldest first."""
    return db.session.scalars(db.select(ReworkCase).where(ReworkCase.order_id == order_id)
                              .order_by(ReworkCase.id)).all()


def acceptances(order_id: int) -> list[Acceptance]:
    """The customer's signed acceptance submissions, oldest first."""
    return db.session.scalars(db.select(Acceptance).where(Acceptance.order_id == order_id)
                              .order_by(Acceptance.id)).all()


def acceptance_for(token: str) -> Acceptance | None:
    """The newest signed acceptance of the project a customer's acceptance link is for (live or used;
    see public.copies.link_keeps_copy), or None."""
    from ..public.copies import link_keeps_copy
    link = links.find(token)
    if not link_keeps_copy(link, "project_acceptance"):
        return None
    return db.session.scalars(db.select(Acceptance).where(Acceptance.order_id == link.object_id)
                              .order_by(Acceptance.id.desc()).limit(1)).first()
