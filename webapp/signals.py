"""What one domain tells the others happened, so that none imports another to react (blinker, which
Flask ships). A domain sends; the domains that care connect a receiver in their own package
(e.g. aftersales/signals.py). Receivers run at once, in the sender's transaction: what they write
commits or rolls back with the change that caused it.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the order; signed_at: when the customer signed (shipping, on every signed delivery receipt).
receipt_signed = _signals.signal("receipt-signed")
# sender: the order, which has just become "delivered" (everything ordered was signed for).
order_delivered = _signals.signal("order-delivered")
# sender: the order; a return case of it was closed (something open with the customer may be settled).
return_case_closed = _signals.signal("return-case-closed")
# sender: the order, just released to production; user: who released it.
order_released = _signals.signal("order-released")
# sender: the signed delivery receipt, once the order's state is settled (documents mails the copy).
receipt_recorded = _signals.signal("receipt-recorded")
# sender: the order, just countersigned; signature, link: the countersignature and the customer's
# link it was made through (documents mails the copy).
order_countersigned = _signals.signal("order-countersigned")
# sender: the order; a shipment of it was made (costing refreshes the sheet's logistics actual).
shipment_created = _signals.signal("shipment-created")
# sender: the user whose sessions were all ended (sync drops the offline credentials acting for them).
sessions_revoked = _signals.signal("sessions-revoked")
# sender: a customer. A receiver answers True when records already carry the customer's abbreviation
# (orders numbered with it): it may then no longer change.
customer_abbreviation_used = _signals.signal("customer-abbreviation-used")
# sender: the material (stock); goods of it were received and may now be used (production checks the
# work orders waiting for it; purchasing sends it after a receipt).
stock_received = _signals.signal("stock-received")
# sender: the lot (quality); an inspection passed, failed or released it (production re-checks
# availability; purchasing may tell the supplier).
lot_status_changed = _signals.signal("lot-status-changed")
# sender: a work order about to finish (go to QC). A receiver answers a message id when it must wait
# (quality: a first article the customer has not approved yet), else None.
work_order_finishing = _signals.signal("work-order-finishing")
# sender: a material whose purchase unit or conversion someone is changing. A receiver answers True
# when open documents are counted in the old unit (purchasing: lines still to be received).
material_on_order = _signals.signal("material-on-order")
# sender: a shipment about to be dispatched. A receiver answers (message id, its values) when it
# must wait (receivables: the customer is overdue and the firm holds shipping, 款到发货), else None.
shipment_dispatching = _signals.signal("shipment-dispatching")
