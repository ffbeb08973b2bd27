"""The customer's PDF copies of what they signed: the countersigned order confirmation and the
delivery receipt. Mailed to them after they sign, and downloadable from their link for the
retention period (views.py). The domains that take the signatures tell it through signals
(webapp/signals.py); it connects its receivers here."""
import functools
import io
import json
import logging
import re
from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_babel import force_locale, get_locale, pgettext
from flask_babel import gettext as _

from .. import clocks, links, signals
from ..db_types import money as round_money
from ..extensions import db
from ..firm import get_settings
from ..labels import label
from ..notify import Attachment, Notice, Recipient, message, notify
from ..orders import Countersignature
from ..photos import Photo
from ..public.copies import link_keeps_copy
from ..shipping import DeliveryReceipt, is_problem
from ..templating import date_local, datetime_local, money, quantity
from ..uploads import read_stored
from ..wallclock import utcnow
from .pdf import CopyPDF

log = logging.getLogger(__name__)


# --- what is kept, and for how long -----------------------------------------------------------------

def gone_message() -> str:
    """What a customer reads when their copy is past the retention period."""
    return _("Your signed copy is no longer kept online: it was kept for %(days)s days after signing. "
             "Ask us for a copy.", days=get_settings().signed_copy_days)


def seal_path() -> io.BytesIO | None:
    """The firm's seal image (as a file), or None when the firm has not uploaded one."""
    settings = get_settings()
    if settings.seal_photo_id is None:
        return None
    return _photo_file(db.session.get(Photo, settings.seal_photo_id))


def _photo_file(photo) -> io.BytesIO | None:
    """A stored photo's bytes (as a file for the PDF), or None (and a log line) when it is gone from
    the storage: the copy is still made, without that image."""
    if photo is None:
        return None
    try:
        return io.BytesIO(read_stored(photo.stored_name))
    except FileNotFoundError:
        log.error("photo %s (%s) is missing from the uploads storage; the PDF copy goes without it",
                  photo.id, photo.entity_type)
        return None


def _safe_filename(text: str) -> str:
    """ASCII letters, digits, dots and dashes only: a name every phone's file list shows as it is."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_") or "copy"


def countersign_filename(terms: dict) -> str:
    """The download name of an order confirmation."""
    return _safe_filename(f"order-{terms.get('number') or ''}-v{terms.get('version')}") + ".pdf"


def receipt_filename(shipment) -> str:
    """The download name of a delivery receipt."""
    return _safe_filename(f"delivery-receipt-{shipment.number}") + ".pdf"


def _made_line() -> str:
    return _("Copy for the customer, made %(time)s", time=datetime_local(utcnow(), "short"))


def _firm_name() -> str:
    return get_settings().firm_name or ""


# --- the documents ---------------------------------------------------------------------------------

def countersign_pdf(signature) -> bytes:
    """The countersigned order confirmation as the customer signed it (the frozen terms and prices,
    their name, time and drawn signature, the firm's seal if it has one, the terms' SHA-256 and the
    signed data in small print), in the current language."""
    terms = json.loads(signature.terms_json)
    currency = terms.get("currency") or "CNY"
    pdf = CopyPDF(_firm_name(), _("Order confirmation"), terms.get("number") or "", _made_line())
    pdf.add_page()
    pdf.title_block(_("Version %(v)s", v=terms.get("version")))
    pdf.facts([
        (_("Customer"), (terms.get("customer") or {}).get("name", "")),
        (_("Customer PO number"), terms.get("customer_po") or ""),
    ])
    rows = []
    for index, line in enumerate(terms.get("lines", []), start=1):
        described = [line.get("model", "")]
        if line.get("description"):
            described.append(line["description"])
        extras = []
        if line.get("customer_part_no"):
            extras.append(f"{_('Your part no.')} {line['customer_part_no']}")
        if line.get("drawing_rev"):
            extras.append(f"{_('Drawing rev.')} {line['drawing_rev']}")
        if extras:
            described.append(" · ".join(extras))
        amount = _line_amount(line)
        rows.append([str(index), "\n".join(described), f"{quantity(line.get('quantity'))} {line.get('unit', '')}",
                     money(line.get("unit_price"), currency), money(line.get("unit_price_incl"), currency),
                     money(amount, currency)])
    pdf.lines_table(["#", _("Model"), _("Qty"), _("Unit price excl. tax"), _("Unit price incl. tax"),
                     _("Amount")], rows, widths=[7, 61, 26, 28, 28, 28], numeric={0, 2, 3, 4, 5})
    pdf.facts([
        (_("Total without tax"), money(terms.get("total_excl"), currency)),
        (_("Tax"), money(terms.get("total_tax"), currency)),
        (_("Total"), money(terms.get("total"), currency)),
    ], label_width=38)
    pdf.heading(_("Terms"))
    pdf.facts([
        (_("Delivery date"), date_local(terms.get("delivery_date"))),
        (_("Delivery method"), label(terms.get("delivery_method"), "method") if terms.get("delivery_method") else ""),
        (_("Delivery place"), terms.get("delivery_place") or ""),
        (_("Payment terms"), _("%(pct)s %% prepayment, %(days)s days after the end of the invoice's month (月结)",
                               pct=quantity(terms.get("prepayment_pct")), days=terms.get("credit_days"))
         if terms.get("credit_basis") == "month_end" else
         _("%(pct)s %% prepayment, %(days)s days credit",
           pct=quantity(terms.get("prepayment_pct")), days=terms.get("credit_days"))),
        (_("Breach liability"), terms.get("breach_liability") or ""),
    ])
    pdf.signature_box(_("Countersigned by the customer"),
                      [_signer(signature.signer_name, signature.signer_title),
                       datetime_local(signature.signed_at, "medium")],
                      svg=signature.signature_svg, seal=seal_path())
    _evidence(pdf, signature.consent_text,
              _("SHA-256 of the signed terms: %(sha)s", sha=signature.terms_sha256),
              _("The signed terms as stored (the SHA-256 above is computed over this text, encoded as UTF-8):"),
              signature.terms_json)
    return pdf.output_bytes()


def _signer(name: str, aside: str | None) -> str:
    """The signer as printed: "Ann Buyer (Purchasing manager)" or the name alone."""
    return _("%(text)s (%(aside)s)", text=name, aside=aside) if aside else name


def _evidence(pdf, consent: str, fingerprint: str, stored_intro: str, stored: str) -> None:
    """What proves the copy: the consent the signer gave, the SHA-256 and the signed text it covers."""
    pdf.paragraph(consent, size=8, muted=True)
    pdf.ln(3)
    pdf.small_print(fingerprint)
    pdf.small_print(stored_intro)
    pdf.small_print(stored)


def _line_amount(line: dict):
    """A line's amount with tax, as the order computes it (quantity × unit price incl. tax)."""
    try:
        return round_money(Decimal(line.get("quantity")) * Decimal(line.get("unit_price_incl")))
    except (TypeError, InvalidOperation):
        return None


def receipt_pdf(receipt) -> bytes:
    """The delivery receipt as the customer signed it: per line shipped and received quantities,
    condition and damage notes, the receiver's name, time and signature (or the photo of the stamped
    note), the firm's seal if it has one, the delivery note's SHA-256 and the note in small print."""
    shipment = receipt.shipment
    order = shipment.order
    note = json.loads(receipt.note_json)
    pdf = CopyPDF(_firm_name(), _("Delivery receipt"), note.get("shipment") or shipment.number, _made_line())
    pdf.add_page()
    pdf.title_block(_("Order %(number)s", number=note.get("order") or order.number))
    pdf.facts([
        (_("Customer"), order.customer.name),
        (_("Customer PO number"), note.get("customer_po") or ""),
    ])
    rows, flagged = [], {}
    for index, line in enumerate(receipt.lines, start=1):
        order_line = line.shipment_line.order_line
        described = [order_line.model]
        if order_line.description:
            described.append(order_line.description)
        extras = []
        if order_line.customer_part_no:
            extras.append(f"{_('Your part no.')} {order_line.customer_part_no}")
        if line.shipment_line.batch:
            extras.append(f"{_('Batch')} {line.shipment_line.batch}")
        if extras:
            described.append(" · ".join(extras))
        unit = order_line.unit
        if is_problem(line):
            flagged[index - 1] = {3, 4, 5}
        rows.append([str(index), "\n".join(described), f"{quantity(line.shipment_line.quantity)} {unit}",
                     f"{quantity(line.received_qty)} {unit}", label(line.condition, "condition"), line.note or ""])
    pdf.lines_table(["#", _("Model"), pgettext("quantity", "Shipped"), pgettext("quantity", "Received"),
                     _("Condition"), _("Note")], rows, widths=[7, 58, 24, 24, 20, 45], numeric={0, 2, 3},
                    flagged=flagged)
    if receipt.has_exception:
        pdf.paragraph(_("Damage or a shortfall was reported with this receipt. Our after-sales team starts "
                        "a return or exchange within %(rule)s.", rule=clocks.RETURN_START.rule()), size=9)
        pdf.ln(2)
    signer = _signer(receipt.signer_name, receipt.signer_relation)
    when = datetime_local(receipt.signed_at, "medium")
    if receipt.taken_on == "courier":
        when = " · ".join((when, _("signed on the courier's phone")))
    stamped = None
    if not receipt.signature_svg and receipt.stamped_photo_id:
        stamped = _photo_file(db.session.get(Photo, receipt.stamped_photo_id))
    pdf.signature_box(_("Received by"), [signer, when], svg=receipt.signature_svg, image=stamped,
                      seal=seal_path(), height=80 if stamped else 32, box_w=120 if stamped else 90)
    _evidence(pdf, receipt.consent_text,
              _("SHA-256 of the signed delivery note: %(sha)s", sha=receipt.note_sha256),
              _("The signed delivery note as stored (the SHA-256 above is computed over this text, "
                "encoded as UTF-8):"),
              receipt.note_json)
    return pdf.output_bytes()


def acceptance_pdf(order, acceptances) -> bytes:
    """The customer's signed acceptance (验收) of a service project: per deliverable the decision and
    comment of every signed submission, the signer's name, time and signature, the firm's seal if it has
    one, and each submission's SHA-256 with the signed data in small print."""
    pdf = CopyPDF(_firm_name(), _("Acceptance certificate"), order.number or "", _made_line())
    pdf.add_page()
    pdf.title_block(_("Order %(number)s", number=order.number))
    pdf.facts([(_("Customer"), order.customer.name), (_("Customer PO number"), order.customer_po or "")])
    for acceptance in acceptances:
        rows = [[str(index), dec.deliverable.title, _("Accepted") if dec.decision == "accept" else _("Rejected"),
                 dec.comment or ""] for index, dec in enumerate(acceptance.decisions, start=1)]
        pdf.heading(_("Signed %(when)s", when=datetime_local(acceptance.signed_at, "medium")))
        pdf.lines_table(["#", _("Deliverable"), _("Decision"), _("Comment")], rows, widths=[7, 78, 25, 68],
                        numeric={0}, flagged={i: {2, 3} for i, dec in enumerate(acceptance.decisions)
                                              if dec.decision == "reject"})
        pdf.signature_box(_("Signed by"), [acceptance.signer_name, datetime_local(acceptance.signed_at, "medium")],
                          svg=acceptance.signature_svg, image=None, seal=seal_path(), height=32, box_w=90)
        _evidence(pdf, acceptance.consent_text,
                  _("SHA-256 of the signed decisions: %(sha)s", sha=acceptance.sha256),
                  _("The signed decisions as stored (the SHA-256 above is computed over this text, encoded as UTF-8):"),
                  acceptance.decisions_json)
    return pdf.output_bytes()


def acceptance_filename(order) -> str:
    """The download name of an acceptance copy."""
    return f"acceptance-{order.number or order.id}.pdf"


# --- by mail, after signing ------------------------------------------------------------------------

def _customer_locale(order) -> str:
    return order.customer.locale or "zh"


def _contact(order) -> str:
    contact = order.requirement.contact_email if order.requirement else ""
    return contact or order.customer.contact_email


def countersign_copy_bytes(signature_id: int, locale: str) -> bytes:
    """The countersigned copy's PDF, in locale (made by the mail task, after the commit)."""
    with force_locale(locale):
        return countersign_pdf(db.session.get(Countersignature, signature_id))


def receipt_copy_bytes(receipt_id: int, locale: str) -> bytes:
    """The signed delivery receipt's PDF, in locale (made by the mail task, after the commit)."""
    with force_locale(locale):
        return receipt_pdf(db.session.get(DeliveryReceipt, receipt_id))


@message("order.countersigned_copy")
def countersigned_copy_notice(order, signature, link) -> Notice:
    """To the customer: their countersigned copy attached, and its download link."""
    url = links.absolute(url_for("public.countersign_copy_pdf", token=link.token))
    make = functools.partial(countersign_copy_bytes, signature.id, str(get_locale()))
    return Notice(_("Order %(number)s: your countersigned copy", number=order.number),
                  _("Hello,\n\nThank you for countersigning order %(number)s. Your copy is attached as a PDF. "
                    "You can also download it here for %(days)s days:\n\n%(url)s\n",
                    number=order.number, days=get_settings().signed_copy_days, url=url),
                  [Attachment(countersign_filename(json.loads(signature.terms_json)), "application/pdf", make)])


@signals.order_countersigned.connect
def _mail_countersigned_copy(order, signature, link, **_extra) -> None:
    """An order was countersigned through the customer's link: their copy goes by mail."""
    mail_countersigned_copy(signature, order, link)


def mail_countersigned_copy(signature, order, link) -> None:
    """Mail the customer their countersigned copy (made after the commit) with the download link,
    in the customer's language."""
    db.session.flush()
    notify("order.countersigned_copy", [Recipient(_contact(order), _customer_locale(order))],
           order=order, signature=signature, link=link)


def receipt_link(shipment_id: int):
    """The customer's newest receipt link of a shipment, if it leads to the copy (used or not)."""
    link = db.session.scalars(db.select(links.AccessLink).where(
        links.AccessLink.purpose == "delivery_receipt", links.AccessLink.object_id == shipment_id)
        .order_by(links.AccessLink.id.desc()).limit(1)).first()
    return link if link_keeps_copy(link, "delivery_receipt") else None


@message("shipment.receipt_copy")
def receipt_copy_notice(order, shipment, receipt, link) -> Notice:
    """To the customer: their signed delivery receipt attached, and (with a live link) its download link."""
    body = _("Hello,\n\nYour receipt of shipment %(number)s (order %(order)s) is recorded. Your signed copy "
             "is attached as a PDF.\n", number=shipment.number, order=order.number)
    if link is not None:
        url = links.absolute(url_for("shipping.receipt_copy_pdf", token=link.token))
        body += "\n" + _("You can also download it here for %(days)s days:\n\n%(url)s\n",
                         days=get_settings().signed_copy_days, url=url)
    make = functools.partial(receipt_copy_bytes, receipt.id, str(get_locale()))
    return Notice(_("Shipment %(number)s: your signed delivery receipt", number=shipment.number), body,
                  [Attachment(receipt_filename(shipment), "application/pdf", make)])


@signals.receipt_recorded.connect
def _mail_receipt_copy(receipt, **_extra) -> None:
    """A delivery receipt was signed and the order's state settled: the customer's copy goes by mail."""
    mail_receipt_copy(receipt)


def mail_receipt_copy(receipt) -> None:
    """Mail the customer their signed delivery receipt (made after the commit), with the download
    link of their receipt link (also when they signed on the courier's phone), in their language."""
    db.session.flush()
    shipment = receipt.shipment
    order = shipment.order
    notify("shipment.receipt_copy", [Recipient(_contact(order), _customer_locale(order))],
           order=order, shipment=shipment, receipt=receipt, link=receipt_link(shipment.id))
