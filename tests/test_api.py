"""The JSON API's own rules: tokens (scope, revocation, expiry), the owner's permissions and object
scope, problem+json with stable types, cursor pages, Idempotency-Key, hostile and oversize input."""
import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.api.models import ApiToken
from webapp.extensions import db
from webapp.wallclock import utcnow

from .api_helpers import ApiClient, make_token
from .helpers import text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def api(app, make_user):
    """api("sales", scope="read") -> a client with a new user's token; .user_id is the user."""
    def make(*roles, scope="write", **user_fields):
        user_id = make_user(*roles, **user_fields)
        client = ApiClient(app, make_token(app, user_id, scope))
        client.user_id = user_id
        return client
    return make


def is_problem(response, status: int, kind: str | None = None) -> dict:
    """Assert a problem+json answer with status (and the stable type); return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    if kind:
        assert body["type"] == f"/api/v1/problems/{kind}", body
    return body


@BOTH
def test_no_unknown_revoked_or_expired_token_opens_anything(app, api, make_order):
    """Without a live token every operation answers 401 invalid-token, whatever cookie comes along."""
    make_order("effective")
    reader = api("sales")
    assert reader.get("/api/v1/orders").status_code == 200
    anonymous = ApiClient(app, None)
    body = is_problem(anonymous.get("/api/v1/orders"), 401, "invalid-token")
    assert "Bearer" in anonymous.get("/api/v1/orders").headers["WWW-Authenticate"]
    is_problem(ApiClient(app, "trk_" + "x" * 43).get("/api/v1/orders"), 401, "invalid-token")
    is_problem(ApiClient(app, "Basic abc").get("/api/v1/orders"), 401, "invalid-token")
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == reader.user_id))
        token.revoked_at = utcnow()
        db.session.commit()
    is_problem(reader.get("/api/v1/orders"), 401, "invalid-token")
    expired = api("sales")
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).where(ApiToken.user_id == expired.user_id))
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    is_problem(expired.get("/api/v1/orders"), 401, "invalid-token")
    assert body["detail"]


def test_a_logged_in_browser_is_not_an_api_client(app, as_user):
    """A session cookie opens no API operation: a page elsewhere must not act through the owner's browser."""
    browser = as_user("sales")
    is_problem(browser.get("/api/v1/orders"), 401, "invalid-token")
    is_problem(browser.post("/api/v1/retail-orders", json={}, csrf=False), 401, "invalid-token")


def test_a_deactivated_owner_closes_the_token(app, api):
    """A token of a user who was deactivated opens nothing."""
    client = api("sales")
    with app.app_context():
        from webapp.auth import User
        db.session.get(User, client.user_id).active = False
        db.session.commit()
    is_problem(client.get("/api/v1/customers"), 401, "invalid-token")


@BOTH
def test_read_token_cannot_write(app, api, make_product):
    """A read-only token reads, and a write answers 403 insufficient-scope with nothing recorded."""
    product_id = make_product()
    reader = api("sales", scope="read")
    assert reader.get("/api/v1/products").status_code == 200
    response = reader.post("/api/v1/retail-orders", json={
        "customer": {"name": "Walk-in"}, "items": [{"product_id": product_id, "quantity": "1"}], "method": "pickup",
        "store": "Main"})
    is_problem(response, 403, "insufficient-scope")
    with app.app_context():
        from webapp.orders import Order
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


@BOTH
def test_a_token_sees_no_more_than_its_owner(app, api, make_order, make_user):
    """Roles: a worker's token is refused orders; the sales reps' scope holds for their tokens too."""
    order_id = make_order("effective", customer="AAA")
    worker = api("worker")
    is_problem(worker.get("/api/v1/orders"), 403, "forbidden")
    is_problem(worker.get(f"/api/v1/orders/{order_id}"), 403, "forbidden")
    with app.app_context():
        from webapp.firm import get_settings
        get_settings().sales_own_customers_only = True
        db.session.commit()
    rep = api("sales")
    assert rep.get("/api/v1/orders").get_json()["data"] == []
    is_problem(rep.get(f"/api/v1/orders/{order_id}"), 404, "not-found")
    with app.app_context():
        from webapp.orders import Order
        customer_id = db.session.get(Order, order_id).customer_id
    is_problem(rep.get(f"/api/v1/customers/{customer_id}"), 404, "not-found")
    manager = api("manager")
    assert [o["id"] for o in manager.get("/api/v1/orders").get_json()["data"]] == [order_id]


@BOTH
def test_prices_are_null_for_an_owner_who_may_not_see_them(app, api, make_order):
    """Production sees quantities and dates, not prices (the firm's default), through the API as on the pages."""
    order_id = make_order("effective", price="12.50")
    production = api("production")
    order = production.get(f"/api/v1/orders/{order_id}").get_json()
    assert order["total"] is None and order["lines"][0]["unit_price"] is None
    assert order["lines"][0]["quantity"] == "100"
    sales = api("sales")
    order = sales.get(f"/api/v1/orders/{order_id}").get_json()
    assert order["lines"][0]["unit_price"] == "12.50" and Decimal(order["total"]) > 0
    versions = production.get(f"/api/v1/orders/{order_id}/versions").get_json()
    assert versions and "unit_price" not in json.dumps(versions)


@BOTH
def test_cursor_pages_cover_every_order_once(app, api, make_order):
    """Pages follow each other with next_cursor until null, each row once, in the asked order."""
    ids = {make_order("draft", customer=f"C{i}") for i in range(5)}
    client = api("manager")
    seen, cursor = [], None
    while True:
        response = client.get("/api/v1/orders", query_string={"limit": 2, "sort": "id",
                                                             **({"cursor": cursor} if cursor else {})})
        body = response.get_json()
        seen += [o["id"] for o in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    newest_first = [o["id"] for o in client.get("/api/v1/orders").get_json()["data"]]
    assert newest_first == sorted(ids, reverse=True)
    is_problem(client.get("/api/v1/orders", query_string={"limit": 0}), 400, "bad-request")
    is_problem(client.get("/api/v1/orders", query_string={"sort": "price"}), 400, "bad-request")
    is_problem(client.get("/api/v1/orders", query_string={"cursor": "abc"}), 400, "bad-request")
    is_problem(client.get("/api/v1/orders", query_string={"colour": "red"}), 400, "bad-request")
    drafts = client.get("/api/v1/orders", query_string={"status": ["draft", "effective"]}).get_json()["data"]
    assert len(drafts) == 5


def retail_body(product_id, **extra):
    """A valid online-shop order of one item."""
    return {"customer": {"name": "Lin Mei", "phone": "13800000000", "address": "1 Road, Suzhou"},
            "items": [{"product_id": product_id, "quantity": "2000"}], "channel": "online",
            "shop_order_no": "TB-1001", **extra}


@BOTH
def test_an_online_shop_creates_a_retail_order_once(app, api, make_product):
    """A retail order made through the API is an effective, numbered order; a retry with the same key
    gets the same answer and makes nothing twice; the same key with another body is refused."""
    product_id = make_product(on_hand="10000", price="100.00")
    shop = api("sales")
    headers = {"Idempotency-Key": "shop-1001"}
    first = shop.post("/api/v1/retail-orders", json=retail_body(product_id), headers=headers)
    assert first.status_code == 201, first.get_json()
    order = first.get_json()
    assert order["status"] == "effective" and order["number"] and order["kind"] == "retail"
    assert order["lines"][0]["quantity"] == "2000" and order["lines"][0]["unit_price"] == "100.00"
    assert order["total_excl"] == "200000.00"
    with app.app_context():
        from webapp.orders import Order
        stored = db.session.get(Order, order["id"])
        assert stored.lines[0].quantity == Decimal("2000") and stored.total_excl == Decimal("200000.00")
    again = shop.post("/api/v1/retail-orders", json=retail_body(product_id), headers=headers)
    assert again.status_code == 201 and again.get_json() == order
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = shop.post("/api/v1/retail-orders", json=retail_body(product_id, note="x"), headers=headers)
    is_problem(changed, 422, "idempotency-key-reused")
    # Without the key, the shop's own order number still enters it only once.
    duplicate = shop.post("/api/v1/retail-orders", json=retail_body(product_id))
    is_problem(duplicate, 409, "state-conflict")
    # Another token's key of the same name is its own.
    other = api("sales")
    response = other.post("/api/v1/retail-orders", json=retail_body(product_id, shop_order_no="TB-1002"),
                          headers=headers)
    assert response.status_code == 201
    with app.app_context():
        from webapp.orders import Order
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 2


@BOTH
def test_bad_bodies_get_their_documented_answers(app, api, make_product):
    """Malformed JSON, a wrong type, an unknown field, a missing field, too large, not JSON: each its answer."""
    product_id = make_product(on_hand="10000")
    shop = api("sales")
    url = "/api/v1/retail-orders"
    is_problem(shop.client.post(url, csrf=False, data="{not json", headers={**shop._headers(None),
                                                                "Content-Type": "application/json"}),
               400, "bad-request")
    is_problem(shop.client.post(url, csrf=False, data="a=b", headers={**shop._headers(None),
                                                         "Content-Type": "application/x-www-form-urlencoded"}),
               415, "unsupported-media-type")
    body = is_problem(shop.post(url, json={**retail_body(product_id), "colour": "red"}), 422, "validation-error")
    assert "colour" in body["errors"]
    body = is_problem(shop.post(url, json={"customer": {"name": "x"}}), 422, "validation-error")
    assert "items" in body["errors"]
    body = is_problem(shop.post(url, json=retail_body(product_id, items=[{"product_id": "x", "quantity": "2"}])),
                      422, "validation-error")
    assert "items" in body["errors"]
    is_problem(shop.post(url, json=[1, 2]), 422, "validation-error")
    huge = retail_body(product_id, note="x" * 70_000)
    is_problem(shop.post(url, json=huge), 413, "payload-too-large")
    # A NUL byte and other controls are taken out before anything stores them (PostgreSQL refuses NUL).
    response = shop.post(url, json=retail_body(product_id, note="fragile\u0000 glass", shop_order_no="TB\u00007"))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        from webapp.orders import Order
        order = db.session.get(Order, response.get_json()["id"])
        assert order.notes == "fragile glass" and order.customer_po == "TB7"
    # A quantity typed as people write it ("2,000", "2 000") is refused, never read as 2.
    for typed in ("2,000", "2 000"):
        body = is_problem(shop.post(url, json=retail_body(product_id, shop_order_no="TB-T",
                                                          items=[{"product_id": product_id, "quantity": typed}])),
                          422, "validation-error")
        assert "items" in body["errors"]
    # Delivery without any address: a missing field (422), not a state conflict.
    no_address = retail_body(product_id, shop_order_no="TB-A", customer={"name": "No Address"})
    body = is_problem(shop.post(url, json=no_address), 422, "validation-error")
    assert "address" in body["errors"]
    # Stock short: a state conflict, nothing recorded.
    is_problem(shop.post(url, json=retail_body(product_id, shop_order_no="TB-9",
                                               items=[{"product_id": product_id, "quantity": "50000"}])),
               409, "state-conflict")


def test_a_header_with_a_control_character_is_refused(app, api):
    """A control character in a header is invalid HTTP: 400 problem+json, as for any request."""
    client = api("sales")
    is_problem(client.get("/api/v1/orders", headers={"X-Note": "a\x01b"}), 400)


@BOTH
def test_the_same_key_sent_twice_at_once_applies_once(app, api, make_product):
    """Two sends of one key at the same moment: one order, both answered with it."""
    product_id = make_product(on_hand="10000")
    shop = api("sales")
    results = []
    barrier = threading.Barrier(2)

    def send():
        client = ApiClient(app, shop.token)
        barrier.wait()  # both sends leave together
        results.append(client.post("/api/v1/retail-orders", json=retail_body(product_id),
                                   headers={"Idempotency-Key": "same-time"}))
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 201], statuses  # the second waits for the first, then answers its stored order
    assert results[0].get_json() == results[1].get_json()
    with app.app_context():
        from webapp.orders import Order
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 1


def test_tokens_are_made_shown_once_and_revoked_on_the_account_page(app, as_user):
    """The owner makes a token (shown once, only its hash kept), uses it, and revokes it."""
    sales = as_user("sales")
    page = sales.post("/account/api-tokens", data={"name": "Online shop", "scope": "read", "expires": "90"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    import re
    secret = re.search(r'id="new-token">(trk_[\w-]+)<', text_of(page)).group(1)
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken))
        assert token.secret_hash != secret and secret not in token.prefix + token.secret_hash
        token_id = token.id
    assert secret not in text_of(sales.get("/account/api-tokens"))
    assert ApiClient(app, secret).get("/api/v1/customers").status_code == 200
    assert sales.post(f"/account/api-tokens/{token_id}/revoke").status_code == 303
    is_problem(ApiClient(app, secret).get("/api/v1/customers"), 401, "invalid-token")
    # Another person cannot revoke it (404: not theirs).
    assert as_user("sales").post(f"/account/api-tokens/{token_id}/revoke").status_code == 404
    assert sales.post("/account/api-tokens", data={"name": "", "scope": "read", "expires": "90"}).status_code == 422


def test_the_document_and_reference_page_need_no_token(app):
    """The OpenAPI document is 3.1, lists every declared operation, and the reference page draws it."""
    client = app.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    from webapp.api.core import OPERATIONS
    from webapp.api.spec import openapi_path
    for op in OPERATIONS:
        assert op.method.lower() in document["paths"][openapi_path(op.rule)], op.rule
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/retail-orders" in text_of(page)
    import re
    # no inline script (a JSON data block and the import map, allowed by its hash, are not run) and no
    # inline style: the strict CSP holds
    assert not re.search(r'<script(?![^>]*\bsrc=)(?![^>]*type="(?:application/json|importmap)")', text_of(page))
    assert "style=" not in text_of(page) and "<style" not in text_of(page)


@BOTH
def test_hostile_bodies_and_dates_get_answers_not_errors(app, api, make_product, make_order):
    """Nesting thousands deep, year 1 or 9999 with an offset, more decimal places than a quantity
    keeps, a total past what money columns hold: each a 4xx with its type, nothing recorded."""
    product_id = make_product(on_hand="100000000", price="10.00")
    shop = api("sales")
    url = "/api/v1/retail-orders"
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    is_problem(shop.client.post(url, csrf=False, data=deep, headers={**shop._headers(None),
                                                                     "Content-Type": "application/json"}),
               400, "bad-request")
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31T00:00:00Z"):
        is_problem(shop.get("/api/v1/orders", query_string={"updated_since": moment}), 400, "bad-request")
    body = is_problem(shop.post(url, json=retail_body(product_id, items=[{"product_id": product_id,
                                                                         "quantity": "0.0000001"}])),
                      422, "validation-error")
    assert "items" in body["errors"]
    is_problem(shop.post(url, json=retail_body(product_id, items=[{"product_id": product_id, "quantity": "1e-999999"}])),
               422, "validation-error")
    is_problem(shop.post(url, json=retail_body(product_id, items=[{"product_id": product_id, "quantity": "NaN"}])),
               422, "validation-error")
    huge = [{"product_id": product_id, "quantity": "1000000", "unit_price_incl": "10000000"}] * 20
    is_problem(shop.post(url, json=retail_body(product_id, items=huge)), 422)
    with app.app_context():
        from webapp.orders import Order
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


@BOTH
def test_a_restricted_rep_cannot_reach_another_reps_buyer_through_a_retail_order(app, api, make_user,
                                                                                  make_product, make_order):
    """A buyer with another rep's customer's name and phone becomes a new walk-in customer of the
    restricted rep's: the other customer's address is not copied, nor the order put on them; and a
    cursor naming another rep's order starts no page at its place."""
    product_id = make_product(on_hand="10000")
    other_rep = make_user("sales", username="other-rep")
    with app.app_context():
        from webapp.customers import Customer
        from webapp.firm import get_settings
        get_settings().sales_own_customers_only = True
        hidden = Customer(name="Secret Buyer Co", abbreviation="SECRT", contact_phone="13800000000",
                          address="88 Hidden Road, Shenzhen", owner_id=other_rep)
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
    rep = api("sales")
    response = rep.post("/api/v1/retail-orders", json={
        "customer": {"name": "Secret Buyer Co", "phone": "13800000000"}, "method": "pickup", "store": "Main",
        "items": [{"product_id": product_id, "quantity": "1"}]})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["customer_id"] != hidden_id and "Hidden" not in json.dumps(order)
    assert rep.get(f"/api/v1/customers/{order['customer_id']}").status_code == 200
    other_order = make_order("effective", customer="OTHR")
    with app.app_context():
        from webapp.orders import Order
        db.session.get(Order, other_order).customer.owner_id = other_rep
        db.session.commit()
    page = rep.get("/api/v1/orders", query_string={"cursor": str(other_order), "sort": "id"}).get_json()
    assert [o["id"] for o in page["data"]] == [order["id"]]
    # Naming the other rep's customer by id: 404, as for any object out of scope; no order made.
    is_problem(rep.post("/api/v1/retail-orders", json={"customer_id": hidden_id, "method": "pickup", "store": "Main",
                                                       "items": [{"product_id": product_id, "quantity": "1"}]}),
               404, "not-found")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id)).where(Order.customer_id == hidden_id)) == 0
