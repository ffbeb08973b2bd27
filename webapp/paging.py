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


def keyset_page(query, model, key, *, descending: bool = False, size: int = PAGE_SIZE) -> Page:
    """The page of query (a select of model, filters applied) that follows the row ?after names,
    ordered by key then id (both descending with descending). An id that names no row gives the
    first page."""
    after = optional_row_id(request.args.get("after"))
    mark = None if after is None else db.session.execute(
        db.select(key).where(model.id == after)).first()
    if mark is not None:
        value = mark[0]
        if descending:
            query = query.where(db.or_(key < value, db.and_(key == value, model.id < after)))
        else:
            query = query.where(db.or_(key > value, db.and_(key == value, model.id > after)))
    order = (key.desc(), model.id.desc()) if descending else (key, model.id)
    rows = db.session.scalars(query.order_by(*order).limit(size + 1)).unique().all()
    if len(rows) > size:
        return Page(rows[:size], rows[size - 1].id)
    return Page(rows, None)
