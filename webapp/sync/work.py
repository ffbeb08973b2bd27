"""Offline sync's work for My work: actions replayed from phones that could not be applied."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from ..extensions import db
from ..work_items import WorkItem, work_item
from .models import SyncConflict


def unsettled(user):
    """One row: when the oldest unsettled conflict came, and how many there are."""
    return (db.select(db.func.min(SyncConflict.created_at), db.func.count())
            .where(SyncConflict.resolved_at.is_(None)))


def conflicts_item(row, user):
    """All unsettled conflicts as one item (none when there are none)."""
    first, count = row
    if not count:
        return None
    return WorkItem(_("Offline actions that could not be applied"), _("%(n)s to settle", n=count),
                    url_for("sync.conflicts"), first, "act")


work_item("sync.conflicts", action="sync.conflicts", label=lazy_gettext("Offline actions that could not be applied"),
          query=unsettled, build=conflicts_item, limited=False)
