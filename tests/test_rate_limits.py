"""Rate limits on capability routes (issue 8, item 14), counted in the database: a dead link takes a
few conflicts with a bounded number of photos each, token guessing and floods from one address or
through one link get 429 with Retry-After (problem+json for a phone's outbox), limits hold across
app instances (gunicorn workers), and one phone still drains 500 queued actions through a link."""
import io
import time
from datetime import datetime, timezone

import pytest

from webapp import create_app, links
from webapp.extensions import db
from webapp.photos import MAX_PHOTOS, Photo
from webapp.sync.models import IdempotencyRecord, SyncConflict

from .helpers import count, jpeg_bytes, text_of
from .test_sync import is_problem, link_replay, packed_shipment_with_courier_link, stamp
from webapp.db_types import utcnow
from webapp.wallclock import frozen

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
GUESSER = {"REMOTE_ADDR": "203.0.113.50"}


def replace_link(app, shipment_id):
    """The office issues a new courier link; the old one is dead but known."""
    with app.app_context(), app.test_request_context():
        links.issue("courier", shipment_id, days=60)
        db.session.commit()


@BOTH
def test_a_dead_link_takes_a_few_conflicts_with_a_bounded_number_of_photos(app, make_order, as_user):
    """Through a replaced link: a replay with ten photos keeps at most MAX_PHOTOS; after ten conflicts
    in the hour the link is refused with 429 and Retry-After (problem+json, the outbox tries again
    later) and nothing more is stored."""
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    replace_link(app, shipment_id)
    ten = {"p-note": "crushed", "p-photos": [(io.BytesIO(jpeg_bytes((i * 20, 0, 0))), f"p{i}.jpg")
                                            for i in range(10)]}
    first = link_replay(app, path + "/problem", "dead-0", ten)
    conflict_id = is_problem(first, 409)["conflict"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Photo).where(
            Photo.entity_type == "sync_conflict", Photo.entity_id == conflict_id)) == MAX_PHOTOS
    limit = app.config["RATE_LIMIT_CONFLICTS_PER_LINK"][0]
    for n in range(1, limit):
        is_problem(link_replay(app, path + "/problem", f"dead-{n}", {"p-note": f"late {n}"}), 409)
    refused = link_replay(app, path + "/problem", "dead-over", {
        "p-note": "one more", "p-photos": [(io.BytesIO(jpeg_bytes()), "x.jpg")]})
    body = is_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0 and body["retry_after"] > 0
    assert count(app, SyncConflict) == limit and count(app, Photo) == MAX_PHOTOS
    with app.app_context():
        assert db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == "dead-over")) is None


# Ten minutes into a quarter-hour window (the bad-token window) and into an hour (the post windows).
MID_WINDOW = datetime(2026, 3, 2, 9, 5, tzinfo=timezone.utc)


@pytest.fixture
def mid_window():
    """The clock standing still at MID_WINDOW: the counters' windows are fixed, and a test that
    crossed a window's end (a CI run once did, at a quarter hour) would start counting again."""
    with frozen(MID_WINDOW):
        yield MID_WINDOW


@BOTH
def test_token_guessing_is_stopped_across_workers(app, mid_window):
    """Unknown tokens from one address: 20 answer 404, then every capability route answers that
    address 429 with Retry-After (the seconds left in the window), in a translated page, and a replay
    gets problem+json; a second app instance on the same database (another gunicorn worker) refuses
    it too; another address is not affected; once the window has ended the address is answered again."""
    limit, seconds = app.config["RATE_LIMIT_BAD_TOKENS"]
    client = app.test_client()
    for n in range(limit):
        assert client.get(f"/c/guess{n:04d}xxxxxxxxxxxxxxxxxxxxxxx", environ_base=GUESSER).status_code == 404
    refused = client.get("/c/guess-over-xxxxxxxxxxxxxxxxxxxxxx", environ_base=GUESSER,
                         headers={"Accept-Language": "zh-CN"})
    window_end = MID_WINDOW.timestamp() // seconds * seconds + seconds
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == window_end - MID_WINDOW.timestamp()
    assert "尝试次数过多" in text_of(refused)
    replay = client.post("/c/guess-replay-xxxxxxxxxxxxxxxxxxxxx/problem", environ_base=GUESSER, csrf=False,
                         data={"p-note": "x"}, headers={"Authorization": "Link", "Idempotency-Key": "g-1",
                                                        "X-Recorded-At": stamp(utcnow())})
    assert is_problem(replay, 429)["retry_after"] > 0 and replay.headers["Retry-After"]

    worker = create_app({**{k: app.config[k] for k in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER", "MAIL_FOLDER", "PUBLIC_URL")}})
    try:
        assert worker.test_client().get("/w/anything-at-all", environ_base=GUESSER).status_code == 429
    finally:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()
    assert client.get("/c/another-address-xxxxxxxxxxxxxxxxxxx",
                      environ_base={"REMOTE_ADDR": "198.51.100.3"}).status_code == 404
    # Hostile tokens are counted like any other unknown one, never a 5xx (PostgreSQL refuses NUL).
    for hostile in ("%00abc", "x" * 5000, "9" * 30):
        answer = client.get(f"/c/{hostile}", environ_base={"REMOTE_ADDR": "198.51.100.4"})
        assert answer.status_code == 404, hostile
    with frozen(datetime.fromtimestamp(window_end, timezone.utc)):  # the next window: counted afresh
        assert client.get("/c/guess-later-xxxxxxxxxxxxxxxxxxxxx", environ_base=GUESSER).status_code == 404


def test_posts_are_limited_per_link_and_per_address(app, make_order, as_user, mid_window):
    """With small limits: the sixth post through one link is 429; the address's allowance covers
    every link it posts to; another address still posts through the same link's neighbour."""
    app.config.update(RATE_LIMIT_POSTS_PER_LINK=(5, 3600), RATE_LIMIT_POSTS_PER_ADDRESS=(8, 3600))
    _first_shipment, path_a = packed_shipment_with_courier_link(app, make_order, as_user)
    _second_shipment, path_b = packed_shipment_with_courier_link(app, make_order, as_user)
    client = app.test_client()
    sender = {"REMOTE_ADDR": "203.0.113.77"}
    for _ in range(5):  # a post without its form token is refused (400), but it was sent and counts
        assert client.post(path_a + "/problem", data={"p-note": "x"}, csrf=False, environ_base=sender).status_code == 400
    over = client.post(path_a + "/problem", data={"p-note": "x"}, csrf=False, environ_base=sender)
    assert over.status_code == 429 and over.headers["Retry-After"]
    for _ in range(3):
        assert client.post(path_b + "/problem", data={"p-note": "x"}, csrf=False, environ_base=sender).status_code == 400
    assert client.post(path_b + "/problem", data={"p-note": "x"}, csrf=False, environ_base=sender).status_code == 429
    assert client.post(path_b + "/problem", data={"p-note": "x"}, csrf=False,
                       environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 400


def test_one_phone_drains_500_queued_actions_through_one_link(app, make_order, as_user):
    """A courier's phone was offline all day: 500 problem reports replay through the one link, one
    after another, from one address, and every one lands."""
    from webapp.audit import AuditEvent
    _shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    client = app.test_client()
    started = time.monotonic()
    for n in range(500):
        answer = client.post(path + "/problem", data={"p-note": f"note {n}"}, csrf=False, headers={
            "Authorization": "Link", "Idempotency-Key": f"drain-{n}", "X-Recorded-At": stamp(utcnow())})
        assert answer.status_code == 201, (n, text_of(answer)[:300])
    assert count(app, IdempotencyRecord) == 500
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "shipment.problem")) == 500
    assert time.monotonic() - started < 120
