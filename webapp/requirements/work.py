"""The requirements' work for My work (sales): records to complete, questions to answer, answers to
wait for. Confirmed requirements that have no order yet are the orders stage's to register
(orders/work.py: it knows what an order made from one is), through register_status()."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..work_items import DUE_DELIVERY, WorkItem, work_item
from .models import Requirement

# What each status asks of sales, and whether sales acts or waits.
TITLES = {"draft": lazy_gettext("Complete and send the requirement"),
          "clarification": lazy_gettext("Customer asked for clarification"),
          "sent": lazy_gettext("Waiting for the customer to confirm"),
          "confirmed": lazy_gettext("Prepare the order")}


def requirements_in(status: str):
    """Requirements of one status, the longest untouched first (index requirement_status_updated)."""
    return (db.select(Requirement).where(Requirement.status == status)
            .options(joinedload(Requirement.customer)).order_by(Requirement.updated_at, Requirement.id))


def requirement_item(requirement: Requirement, user) -> WorkItem:
    """The requirement as an item: its product, its customer and the date the customer expects."""
    return WorkItem(str(TITLES[requirement.status]), requirement.product,
                    url_for("requirements.detail", req_id=requirement.id), requirement.updated_at,
                    "wait" if requirement.status == "sent" else "act", customer=requirement.customer.name,
                    due=requirement.expected_date, due_kind=DUE_DELIVERY)


def register_status(status: str, condition=None) -> None:
    """Register the requirements of one status as a kind of My work (condition(): a further WHERE
    clause on Requirement, asked when the work is collected)."""
    def query(user):
        statement = requirements_in(status)
        return statement if condition is None else statement.where(condition())
    work_item(f"requirement.{status}", action="requirement.edit",
              customer=lambda: Requirement.customer_id, label=TITLES[status], query=query,
              build=requirement_item, more_url=lambda: url_for("requirements.index", status=status))


for _status in ("draft", "clarification", "sent"):
    register_status(_status)
