"""The reviews domain's work for My work: an owner's open improvement actions, with their due dates."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from ..work_items import DUE_DEADLINE, WorkItem, work_item
from .services import actions_of


def _item(action, user) -> WorkItem:
    return WorkItem(_("Improvement action"), action.title, url_for("reviews.action", action_id=action.id),
                    action.created_at, "act", due=action.due_date, due_kind=DUE_DEADLINE,
                    detail=action.description[:120])


work_item("improvement.mine", action="action.mine", label=lazy_gettext("My improvement actions"),
          query=lambda user: actions_of(user.id), build=_item,
          more_url=lambda: url_for("reviews.actions", status="mine"))
