"""'My work': what waits for an action the user may take, line-stopping trouble first, then oldest
first. Each domain registers its kinds of work in its own work.py (webapp/work_items.py is the
registry); this module imports no domain."""
from ..work_items import (DUE_DEADLINE, DUE_DELIVERY, DUE_ETA, DUE_PLANNED, MoreLink, WorkItem,  # noqa: F401
                          WorkList, collect, items_for)
