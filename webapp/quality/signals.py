"""What quality does when another domain asks or tells (webapp/signals.py)."""
from .. import signals
from . import services


@signals.work_order_finishing.connect
def first_article_first(work_order, **_extra) -> str | None:
    """A work order that needs a first article the customer has not approved does not finish."""
    return services.first_article_blocks(work_order)
