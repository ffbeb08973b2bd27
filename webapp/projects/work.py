"""Service projects' work for My work: rework cases to hand over before their clock runs out (the
project's staff)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..orders import Order, order_customer, order_item
from ..work_items import DUE_DEADLINE, work_item
from .models import ReworkCase
from .services import REWORK


def rework_item(row, user):
    """An open rework case: hand the deliverable over again before its due time."""
    case, order = row
    return order_item(_("Rework “%(title)s” within %(rule)s", title=case.deliverable.title, rule=REWORK.rule()),
                      order, url_for("projects.detail", order_id=order.id, _anchor=f"deliverable-{case.deliverable_id}"),
                      case.opened_at, due=case.due_at, due_kind=DUE_DEADLINE, detail=case.reason[:80])


work_item("rework.open", action="project.manage", customer=order_customer,
          label=lazy_gettext("Rework a rejected deliverable"),
          query=lambda user: (db.select(ReworkCase, Order).join(Order, Order.id == ReworkCase.order_id)
                              .where(ReworkCase.status == "open")
                              .options(joinedload(Order.customer), joinedload(ReworkCase.deliverable))
                              .order_by(ReworkCase.due_at, ReworkCase.id)),
          build=rework_item)
