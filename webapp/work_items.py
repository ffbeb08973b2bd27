"""'My work' as a registry: each domain registers the kinds of work it hands out, and the home page
asks every kind the current user may see for its first few items.

A kind declares the permission action it needs (checked with permissions.can), a query that asks
the database the condition (EXISTS, not rows loaded to be tested in Python), in the order the items
are shown, and how a row reads as an item. The registry runs each query with LIMIT n+1: when more
rows wait than are shown, it counts them once and offers an "N more" link to the filtered list.
This module imports no domain: domains import it (from their work.py) and register themselves.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from .db_types import utcnow
from .extensions import db
from .i18n import firm_today
from . import registry
from .permissions import can

# How an item's date reads: a clock that runs out (a deadline), or the date the work is planned for
# or the order must be delivered by.
DUE_DEADLINE, DUE_PLANNED, DUE_DELIVERY, DUE_ETA = "deadline", "planned", "delivery", "eta"

# Items shown per kind; the rest are behind the kind's "N more" link.
SHOWN_PER_KIND = 20
# The "N more" count stops past this many (the link then says "over N"): counting every delivered
# order of years of history to say 17,005 cost My work more than all it shows.
MORE_COUNTED = 1000


@dataclass
class WorkItem:
    """One thing to do."""

    title: str
    subject: str
    url: str
    since: datetime
    kind: str
    customer: str = ""
    due: date | datetime | None = None
    due_kind: str = ""
    blocking: bool = False
    detail: str = ""
    # Overdue and already escalated to the owner and the managers (a background task did it).
    escalated: bool = False

    @property
    def overdue(self) -> bool:
        """The deadline or date has passed (dates count from the firm's today)."""
        if self.due is None:
            return False
        if isinstance(self.due, datetime):
            return self.due < utcnow()
        return self.due < firm_today()


@dataclass
class MoreLink:
    """More items of one kind than My work shows: how many, and the list page that has them all."""

    label: str
    count: int
    url: str | None
    # More than count wait (the count stopped at MORE_COUNTED).
    over: bool = False


@dataclass(frozen=True)
class WorkItemKind:
    """A kind of work a domain hands out (see work_item())."""

    key: str
    action: str
    query: Callable
    build: Callable
    label: object = ""
    more_url: Callable | None = None
    limited: bool = True
    customer: Callable | None = None


@dataclass
class WorkList:
    """What My work shows: the items, line-stopping ones first, then oldest first; and the kinds
    that have more than it shows."""

    items: list[WorkItem] = field(default_factory=list)
    more: list[MoreLink] = field(default_factory=list)


REGISTRY: dict[str, WorkItemKind] = {}


def work_item(key: str, *, action: str, query: Callable, build: Callable, label="",
              more_url: Callable | None = None, limited: bool = True,
              customer: Callable | None = None) -> WorkItemKind:
    """Register a kind of work: whoever may do `action` (permissions.can) sees the rows `query(user)`
    selects (a Select in display order), each read by `build(row, user)` into a WorkItem (or a
    list of them). With `limited`, the first SHOWN_PER_KIND rows are shown and `more_url()` (the
    filtered list page) is offered, labelled `label` (a string, or a function giving one), for the
    rest. `customer()`, where the rows belong to a customer, gives the column (or SQL expression)
    holding the customer's id, so that the domains' object scope applies (a sales rep limited to
    their own customers sees only theirs). Registering a key again replaces the kind (a module
    reloaded in a test)."""
    kind = WorkItemKind(key, action, query, build, label, more_url, limited, customer)
    REGISTRY[key] = kind
    return kind


def _statement(kind: WorkItemKind, user):
    """The kind's query for user, within the object scope the domains registered."""
    statement = kind.query(user)
    if statement is not None and kind.customer is not None:
        for clause in registry.scope_clauses(user, kind.customer()):
            statement = statement.where(clause)
    return statement


def _rows(statement) -> list:
    """The rows of a select: whole entities when it selects one entity, else row tuples."""
    result = db.session.execute(statement)
    if len(statement.column_descriptions) == 1:
        return list(result.scalars().unique())
    return list(result.unique())


def _count(statement, most: int) -> int:
    """How many rows statement selects, counting no further than most + 1 (asked only when more
    wait than are shown): the database stops there, however long the history behind it."""
    # Counted over a constant, not the kind's columns: a status alone is then answered from its
    # index (a covering scan), and no row's text columns are read to be thrown away (the whole
    # order rows made a delivered-orders count of 1,000 cost more than the page it sits on).
    counted = statement.order_by(None).with_only_columns(db.literal(1), maintain_column_froms=True)
    return db.session.scalar(db.select(db.func.count()).select_from(counted.limit(most + 1).subquery()))


def _as_items(built) -> Iterable[WorkItem]:
    """What a kind's build gave, as items: one, several, or none."""
    if built is None:
        return ()
    return built if isinstance(built, (list, tuple)) else (built,)


def collect(user, kinds: Iterable[WorkItemKind] | None = None, shown: int = SHOWN_PER_KIND) -> WorkList:
    """The work user may do, from every registered kind whose action user may take."""
    work = WorkList()
    for kind in ([*REGISTRY.values(), *registry.work_kinds()] if kinds is None else kinds):
        if not can(user, kind.action):
            continue
        statement = _statement(kind, user)
        if statement is None:
            continue
        if kind.limited:
            statement = statement.limit(shown + 1)
        rows = _rows(statement)
        if kind.limited and len(rows) > shown:
            rows = rows[:shown]
            url = kind.more_url() if kind.more_url else None  # without a list page: said, not linked
            label = kind.label() if callable(kind.label) else str(kind.label)
            waiting = _count(_statement(kind, user), shown + MORE_COUNTED) - shown
            work.more.append(MoreLink(label, min(waiting, MORE_COUNTED), url, over=waiting > MORE_COUNTED))
        for row in rows:
            work.items.extend(_as_items(kind.build(row, user)))
    work.items.sort(key=lambda item: (not item.blocking, item.since))
    return work


def items_for(user) -> list[WorkItem]:
    """The work items for user: line-stopping anomalies first, then oldest first."""
    return collect(user).items

