"""The lists' status filters on the demo firm: every state answers 200 with exactly its rows, and a
status value that is not a state (or is a number such as 418) shows the whole list with 200. The
filter once reached the page helper's HTTP status: ?status=draft answered 500, ?status=418 a 418."""
import re

import pytest

from webapp.extensions import db
from webapp.orders import lifecycle as order_lifecycle
from webapp.orders.models import Order
from webapp.requirements import lifecycle as requirement_lifecycle
from webapp.requirements.models import Requirement

from .conftest import demo_login

LISTS = [("/orders/", Order, order_lifecycle.STATES, r'href="/orders/(\d+)"'),
         ("/requirements/", Requirement, requirement_lifecycle.STATES, r'href="/requirements/(\d+)"')]


def ids_by_state(app, model) -> dict[str, set[int]]:
    with app.app_context():
        rows = db.session.execute(db.select(model.id, model.status)).all()
    result: dict[str, set[int]] = {}
    for row_id, state in rows:
        result.setdefault(state, set()).add(row_id)
    return result


@pytest.mark.parametrize("path,model,states,row", LISTS, ids=["orders", "requirements"])
def test_every_status_filter_answers_200_with_its_rows(demo_app, path, model, states, row):
    client = demo_login(demo_app, "zhao.min")
    by_state = ids_by_state(demo_app, model)
    assert len(by_state) >= 3  # the demo has rows in several states
    for state in states:
        response = client.get(f"{path}?status={state}")
        assert response.status_code == 200, (state, response.status)
        shown = {int(i) for i in re.findall(row, response.get_data(as_text=True))}
        assert shown == by_state.get(state, set()), state


@pytest.mark.parametrize("path,model,states,row", LISTS, ids=["orders", "requirements"])
@pytest.mark.parametrize("value", ["418", "500", "204", "301", "abc", "", "draft' OR 1=1"])
def test_a_status_that_is_no_state_shows_everything_with_200(demo_app, path, model, states, row, value):
    client = demo_login(demo_app, "zhao.min")
    response = client.get(path, query_string={"status": value})
    assert response.status_code == 200, response.status
    shown = {int(i) for i in re.findall(row, response.get_data(as_text=True))}
    assert shown == set().union(*ids_by_state(demo_app, model).values())
