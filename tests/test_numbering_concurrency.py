"""Fifty managers approving fifty orders of one customer at the same moment get fifty distinct,
consecutive numbers — on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (upsert row lock)."""
import threading
from datetime import datetime, timezone

import pytest
import time_machine

from webapp.extensions import db
from webapp.orders.models import Order

from .conftest import login

COUNT = 50


@pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_fifty_concurrent_approvals_get_consecutive_numbers(app, make_order, make_user):
    """No duplicates, no gaps, whatever the interleaving."""
    with time_machine.travel(datetime(2026, 11, 15, 4, 0, tzinfo=timezone.utc), tick=True):
        order_ids = [make_order("pending_approval", customer="ACME", finance_approval=False,
                                reviews_required="") for _ in range(COUNT)]
        make_user("manager", username="boss")
        clients = []
        for _ in range(COUNT):
            client = app.test_client()
            assert login(client, "boss").status_code == 303
            clients.append((client, client.csrf_token()))
        barrier = threading.Barrier(COUNT)
        statuses = [None] * COUNT

        def approve(index):
            client, token = clients[index]
            barrier.wait()
            response = client.post(f"/orders/{order_ids[index]}/decide", csrf=False,
                                   data={"role": "manager", "decision": "approve", "csrf_token": token})
            statuses[index] = response.status_code

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(COUNT)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert statuses == [303] * COUNT
    with app.app_context():
        numbers = sorted(db.session.scalars(db.select(Order.number).where(Order.id.in_(order_ids))))
    assert numbers == [f"202611-ACME-{n:03d}" for n in range(1, COUNT + 1)]
