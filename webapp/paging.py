"""Long lists page by keyset: each page continues after the last row shown (?after=<id>), so a
page costs the same however much history lies behind it (no OFFSET that reads and drops rows)."""
from dataclasses import dataclass

from flask import request

from .extensions import db
from .inputs import optional_row_id

PAGE_SIZE = 200


@dataclass
class Page:
    """One page of a list, and the id to continue after (None on the last page)."""

    rows: list
    next_after: int | None


def _beyond(marks: list, descending: bool, nulls_last: bool):
    """The rows that sort after the mark: marks are (column, the marked row's value) pairs, the id
    last. With nulls_last a NULL sorts after every value (the same on SQLite and PostgreSQL, whose
    own NULL orders differ), so nothing but another NULL follows a NULL."""
    (column, value), rest = marks[0], marks[1:]
    if value is None:
        same, past = column.is_(None), None
    else:
        same, past = column == value, column < value if descending else column > value
        if nulls_last:
            past = db.or_(past, column.is_(None))
    if not rest:
        return past
    deeper = db.and_(same, _beyond(rest, descending, nulls_last))
    return deeper if past is None else db.or_(past, deeper)


def keyset_page(query, model, key, *, descending: bool = False, size: int = PAGE_SIZE,
                nulls_last: bool = False, param: str = "after") -> Page:
    """The page of query (a select of model, filters applied) that follows the row ?after names,
    ordered by key then id (both descending with descending). key is a column (or expression), or
    a tuple of them sorted in turn; with nulls_last rows whose key is NULL come after the others
    (a nullable key). param names the query argument, for a page with two lists. An id that names
    no row gives the first page."""
    keys = tuple(key) if isinstance(key, (tuple, list)) else (key,)
    after = optional_row_id(request.args.get(param))
    # The mark is looked up within the query's own filters: a row outside them (another rep's order)
    # must not tell its sort value by where the page starts.
    mark = None if after is None else db.session.execute(
        query.with_only_columns(*keys, maintain_column_froms=True).where(model.id == after).order_by(None)
        .limit(1)).first()
    if mark is not None:
        query = query.where(_beyond([*zip(keys, mark), (model.id, after)], descending, nulls_last))
    order = []
    for column in (*keys, model.id):
        if nulls_last and column is not model.id:
            order.append(column.is_(None))  # false before true: the NULLs last, on every database
        order.append(column.desc() if descending else column)
    rows = db.session.scalars(query.order_by(*order).limit(size + 1)).unique().all()
    if len(rows) > size:
        return Page(rows[:size], rows[size - 1].id)
    return Page(rows, None)
