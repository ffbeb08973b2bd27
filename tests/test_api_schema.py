"""Schemathesis against the API's own OpenAPI document: for every operation, a bounded number of
generated requests (valid and not) with a live token — no server error, every answer's status,
content type and body as the document says, and no operation that answers without the token."""
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from .api_helpers import make_token

# The examples per operation: enough to reach every field's edge cases, few enough for CI's 2 cores.
EXAMPLES = 12
TOKEN = {}  # the token of the fixture's manager, for the test to send
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance, checks.ignored_auth]


@pytest.fixture
def api_schema(app, make_order, make_product, make_user):
    """The document as the running app serves it, over a firm with orders and stock, and a manager's
    write token (a manager may read everything the API has)."""
    make_order("effective", customer="SCH")
    make_product(model="SCH-1", on_hand="1000")
    token = make_token(app, make_user("manager", "sales", "finance"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    TOKEN["value"] = token
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_keeps_to_the_document(case):
    """Every operation answers as its document says, with the token and without it."""
    # identity: answers go through WSGI straight to the checks, with no HTTP client to undo compression.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['value']}", "Accept-Encoding": "identity"},
                           checks=CHECKS)
