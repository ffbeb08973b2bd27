"""The warehouse's work for My work: stocktakes waiting for approval (for the approvers, never the
person who counted)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..work_items import WorkItem, work_item
from .models import Stocktake


def approval_item(stocktake: Stocktake, user) -> WorkItem:
    """A submitted count to approve and post."""
    return WorkItem(_("Stocktake to approve"), stocktake.number,
                    url_for("stock.stocktake", stocktake_id=stocktake.id), stocktake.created_at, "act",
                    detail=f"{stocktake.location.code} · {stocktake.location.name}")


work_item("stocktake.approve", action="stocktake.approve", label=lazy_gettext("Stocktake to approve"),
          query=lambda user: (db.select(Stocktake).where(Stocktake.status == "submitted",
                                                         Stocktake.created_by_id != user.id)
                              .options(joinedload(Stocktake.location))
                              .order_by(Stocktake.created_at, Stocktake.id)),
          build=approval_item, more_url=lambda: url_for("stock.stocktakes"))
