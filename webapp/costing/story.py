"""What costing tells in an order's whole story (orders/story.py, registry.StoryPart): the cost
sheet saved and finalised and a manager's closing override, each leading to the sheet."""
from flask import url_for

from ..registry import StoryPart


def describe(entry, event, data: dict, story) -> None:
    """The cost sheet's events link to the sheet, for a reader who may see it."""
    entry.url = url_for("costing.sheet", order_id=story.order.id) if story.may("costsheet.view") else None


PART = StoryPart(describe=describe,
                 order_events=frozenset({"cost_sheet.saved", "cost_sheet.finalised", "order.close_override"}))
