"""The issue's "done when", as an outside developer does it: with a token and only the OpenAPI
document — operations found by their operationId, paths and bodies as the document gives them —
list orders, create a retail order of 2,000 pieces and add a transit event; every answer checked
against the document's own schema (schemathesis), on SQLite and PostgreSQL."""
import pytest
import schemathesis

from .api_helpers import make_token
from .test_api_delivery import dispatched

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def by_operation_id(document: dict) -> dict:
    """operationId → (method, path) from the document."""
    return {op["operationId"]: (method.upper(), path) for path, ops in document["paths"].items()
            for method, op in ops.items()}


@BOTH
def test_an_outside_developer_works_from_the_document_alone(app, make_user, make_product, make_order, as_user):
    shipment_id = dispatched(app, make_order, as_user)
    product_id = make_product(model="GEAR-45", on_hand="5000", price="38.00")
    token = make_token(app, make_user("sales", "warehouse"))
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    ops = by_operation_id(document)
    schema = schemathesis.openapi.from_dict(document)

    def call(operation_id, path_values=None, body=None, query=None, key=None):
        method, path = ops[operation_id]
        operation = schema[path][method]
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = operation.Case(path_parameters=path_values or {}, query=query,
                              headers={**headers, **({"Idempotency-Key": key} if key else {})}, **extra)
        response = case.call(app=app)
        case.validate_response(response, checks=[schemathesis.checks.status_code_conformance,
                                                  schemathesis.checks.response_schema_conformance])
        return response

    listed = call("list_orders", query={"limit": 10}).json()
    assert listed["data"] and listed["next_cursor"] is None

    made = call("create_retail_order", key="shop-TB-2001", body={
        "customer": {"name": "林梅", "phone": "13800000000", "address": "苏州市工业园区星湖街 1 号"},
        "items": [{"product_id": product_id, "quantity": "2000"}], "channel": "online", "shop_order_no": "TB-2001"})
    assert made.status_code == 201
    order = made.json()
    assert order["status"] == "effective" and order["lines"][0]["quantity"] == "2000"
    assert order["total_excl"] == "76000.00"

    event = call("add_shipment_event", path_values={"shipment_id": shipment_id}, key="ev-1",
                 body={"kind": "in_transit", "place": "苏州分拨中心", "note": "已到达分拨中心"})
    assert event.status_code == 201 and event.json()["place"] == "苏州分拨中心"
    events = call("list_shipment_events", path_values={"shipment_id": shipment_id}).json()
    assert [e["place"] for e in events if e["kind"] == "in_transit"] == ["苏州分拨中心"]
