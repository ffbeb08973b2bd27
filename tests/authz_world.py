"""The authorisation matrix's world (tests/test_authorization_matrix.py): the demo firm with one person
per role, a customer's and a courier's link, an API token, and for every route of the URL map a URL
whose parameters name objects that exist; and one request per route and principal, answered as the
outcome the matrix declares ("ok", "login", 401, 403, 404).

A request that is let through runs its view in full but commits nothing (a test-only hook marks the
request to be rolled back, as a refused one is), so the one demo firm serves every principal in turn."""
import re
from dataclasses import dataclass, field
from datetime import date

from flask import g, request
from sqlalchemy import text

from webapp.extensions import db

from .api_helpers import make_token

ROLES = ("admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager",
         "aftersales", "worker", "courier")
# The demo person who holds each role (each holds that role alone).
PEOPLE = {"admin": "admin", "sales": "wang.fang", "operations": "li.qiang", "production": "zhang.wei",
          "purchasing": "sun.lei", "warehouse": "liu.yang", "qc": "zhou.jie", "finance": "chen.jing",
          "manager": "zhao.min", "aftersales": "wu.ting", "worker": "huang.xm", "courier": "ma.driver"}
# Who holds no login: a visitor, a customer with their order's service link, a courier with a
# shipment's link, an integration with an API token (the manager's, read and write).
OUTSIDERS = ("anonymous", "customer", "courier_link", "api")
PRINCIPALS = ROLES + OUTSIDERS
DRY_RUN = "X-Matrix-Dry-Run"


def install_dry_run(app) -> None:
    """A request carrying the DRY_RUN header is rolled back at its end, whatever it did."""
    def mark():
        if request.headers.get(DRY_RUN):
            g.rollback = True
    app.before_request_funcs.setdefault(None, []).append(mark)


@dataclass
class World:
    """The demo firm's objects the matrix's URLs name, and the principals' credentials."""

    values: dict = field(default_factory=dict)   # argument name -> value, for order A's world
    special: dict = field(default_factory=dict)  # (endpoint, argument) -> value
    links: dict = field(default_factory=dict)    # principal -> token for /c/ routes
    api_token: str = ""
    clients: dict = field(default_factory=dict)


def one(sql: str, **params):
    """The first column of the first row of sql (None when no row)."""
    return db.session.execute(text(sql), params).scalar()


def build_world(app) -> World:
    """Find (or make, where the demo firm has none) an object for every URL parameter."""
    from webapp import links
    world = World()
    with app.app_context(), app.test_request_context("/"):
        order_a = 10     # shipped: work orders done, a dispatched shipment, returns, tickets
        shipment_a = one("SELECT min(id) FROM shipment WHERE order_id = :o AND status = 'dispatched'", o=order_a)
        work_order = one("SELECT min(id) FROM work_order WHERE status = 'in_progress'")
        v = world.values
        v.update(
            order_id=order_a, shipment_id=shipment_a, work_order_id=work_order,
            case_id=one("SELECT min(id) FROM return_case"), ticket_id=one("SELECT min(id) FROM ticket"),
            lot_id=one("SELECT min(id) FROM lot"), req_id=one("SELECT min(id) FROM requirement"),
            photo_id=one("SELECT min(id) FROM photo"), quote_id=one("SELECT min(id) FROM quote"),
            stocktake_id=one("SELECT min(id) FROM stocktake"), user_id=one("SELECT id FROM \"user\" WHERE username='lin.dw'"),
            customer_id=one("SELECT customer_id FROM \"order\" WHERE id = :o", o=order_a),
            product_id=one("SELECT min(id) FROM product"), statement_id=one("SELECT min(id) FROM statement"),
            robot_id=one("SELECT min(id) FROM chat_robot"), review_id=one("SELECT min(id) FROM review"),
            plan_id=one("SELECT min(id) FROM inspection_plan"), material_id=one("SELECT min(id) FROM material"),
            inspection_id=one("SELECT min(id) FROM inspection"), document_id=one("SELECT min(id) FROM shipment_document"),
            article_id=one("SELECT min(id) FROM first_article"), action_id=one("SELECT min(id) FROM improvement_action"),
            survey_id=one("SELECT min(id) FROM survey"), operation_id=one("SELECT min(id) FROM work_order_operation"),
            invoice_id=one("SELECT min(id) FROM invoice"), anomaly_id=one("SELECT min(id) FROM anomaly"),
            vehicle_id=one("SELECT min(id) FROM vehicle"), transfer_id=one("SELECT min(id) FROM outsource_transfer"),
            supplier_id=one("SELECT min(id) FROM supplier"), requirement_id=one("SELECT min(id) FROM requirement"),
            request_id=one("SELECT min(id) FROM purchase_request"), release_id=one("SELECT min(id) FROM shipping_release"),
            payment_id=one("SELECT min(id) FROM payment"), match_id=one("SELECT min(id) FROM payment_match"),
            day_id=one("SELECT min(id) FROM calendar_day"), centre_id=one("SELECT min(id) FROM work_centre"),
            carton_id=one("SELECT min(id) FROM carton"), carrier_id=one("SELECT min(id) FROM carrier"),
            link_id=one("SELECT min(id) FROM access_link WHERE purpose = 'order_countersign'"),
            size="60x40", name="x", department="production", category="material", kind="not-found",
            key="on-time", provider="wecom", code="zh", direction="issue", day=date.today().isoformat(),
            filename="css/app.css", secret="x" * 32, token="A" * 32,
        )
        v["line_id"] = one("SELECT min(id) FROM shipment_line WHERE shipment_id = :s", s=shipment_a)
        s = world.special
        s[("purchasing.receive", "line_id")] = one("SELECT min(id) FROM purchase_order_line")
        for endpoint in ("purchasing.order", "purchasing.cancel", "purchasing.order_print", "purchasing.send"):
            s[(endpoint, "order_id")] = one("SELECT min(id) FROM purchase_order")
        project = one("SELECT min(id) FROM \"order\" WHERE kind = 'project'")
        for endpoint in ("projects.detail", "projects.acceptance_link", "projects.hand_over", "projects.progress",
                         "projects.document"):
            s[(endpoint, "order_id")] = project
        v["deliverable_id"] = one("SELECT min(id) FROM deliverable WHERE order_id = :o", o=project)
        for endpoint in ("retail.detail", "retail.ship"):
            s[(endpoint, "order_id")] = one("SELECT max(id) FROM \"order\" WHERE kind = 'retail'")
        s[("quality.delete_item", "item_id")] = one("SELECT min(id) FROM plan_item WHERE plan_id = :p",
                                                    p=v["plan_id"])
        delivered = one("SELECT min(id) FROM shipment WHERE order_id = :o AND status LIKE 'delivered%'", o=order_a)
        for endpoint in ("api.get_shipment_receipt", "shipping.receipt"):
            s[(endpoint, "shipment_id")] = delivered
        s[("orders.move", "name")] = "resume"
        s[("reviews.move", "name")] = "start"
        s[("production.move", "name")] = "start"
        s[("costing.decide_quote", "name")] = "revise"
        s[("public.link_qr", "link_id")] = one("SELECT min(id) FROM access_link WHERE purpose = 'order_service' "
                                               "AND object_id = :o AND revoked_at IS NULL", o=order_a)
        v["ticket_id"] = one("SELECT coalesce(min(id), (SELECT min(id) FROM ticket)) FROM ticket WHERE order_id = :o",
                             o=order_a)
        draft_order = one("SELECT min(id) FROM \"order\" WHERE status = 'draft'")
        for endpoint in ("orders.edit", "orders.submit"):
            s[(endpoint, "order_id")] = draft_order
        draft_requirement = one("SELECT min(id) FROM requirement WHERE status IN ('draft', 'sent', 'clarification')")
        for endpoint in ("requirements.edit", "requirements.upload", "requirements.send", "requirements.cancel"):
            s[(endpoint, "req_id")] = draft_requirement
        s[("shipping.photo", "photo_id")] = one("SELECT min(id) FROM photo WHERE entity_type = 'receipt'")
        s[("production.photo", "photo_id")] = one("SELECT min(id) FROM photo WHERE entity_type = 'anomaly'")
        # the staff capability tokens: a work order's label, an operation's card, a lot, a carton
        world.special[("production", "token")] = one("SELECT token FROM work_order WHERE id = :w", w=work_order)
        world.special[("production.operation", "token")] = one(
            "SELECT token FROM work_order_operation WHERE work_order_id = :w ORDER BY id", w=work_order)
        world.special[("stock.lot_by_token", "token")] = one("SELECT token FROM lot WHERE id = :l", l=v["lot_id"])
        world.special[("shipping.carton_by_token", "token")] = one("SELECT token FROM carton WHERE id = :c",
                                                                   c=v["carton_id"])
        world.links["customer"] = links.current("order_service", order_a).token
        world.links["courier_link"] = links.current("courier", shipment_a).token
        db.session.commit()
        manager = one("SELECT id FROM \"user\" WHERE username = 'zhao.min'")
    world.api_token = make_token(app, manager, "write")
    with app.app_context():
        world.values["token_id"] = one("SELECT max(id) FROM api_token")
    # Objects the demo firm has none of: an id that exists nowhere (MISSING in the matrix's module).
    for name in ("endpoint_id", "device_id", "file_id", "attachment_id", "identity_id", "delivery_id",
                 "conflict_id"):
        world.values.setdefault(name, NOWHERE)
    return world


NOWHERE = 10**6


def url_for_rule(world: World, rule, principal: str) -> str:
    """rule's path with each parameter filled from the world (the principal's own link for /c/)."""
    def value(match):
        name = match.group(2)
        endpoint = rule.endpoint
        if name in ("token", "secret"):
            if rule.rule.startswith(("/c/", "/aftersales/c/")):
                return world.links.get(principal, "A" * 32)
            for key in ((endpoint, name), (endpoint.rsplit("_", 1)[0], name), (endpoint.split(".")[0], name)):
                if key in world.special:
                    return str(world.special[key])
            return "A" * 32
        if (endpoint, name) in world.special:
            return str(world.special[(endpoint, name)])
        return str(world.values[name])
    url = re.sub(r"<(?:(\w+):)?(\w+)>", value, rule.rule)
    query = QUERIES.get(rule.endpoint)
    return f"{url}?{query.format(**world.values)}" if query else url


# Pages that read what to show from the query string.
QUERIES = {"production.lots_sheet_pdf": "lot={lot_id}"}


def clients(app, world: World) -> dict:
    """A client per principal: each role's person logged in through the form; the others without a login."""
    from webapp.demo import DEMO_PASSWORD
    out = {}
    for role, username in PEOPLE.items():
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 303, (role, response.status_code)
        out[role] = client
    for principal in OUTSIDERS:
        out[principal] = app.test_client()
    return out


def outcome(response) -> str | int:
    """What a response means for the matrix: "login" (sent to sign in), 401/403/404 (refused), or "ok"
    (let through: a page, a redirect elsewhere, a form's errors, a state conflict); a 5xx as itself."""
    status = response.status_code
    # login_required's redirect is a 302 (a logout's own 303 to the login page is its success)
    if status in (301, 302) and "/login" in response.headers.get("Location", ""):
        return "login"
    if status in (401, 403, 404) or status >= 500:
        return status
    return "ok"


def send(world: World, client, rule, method: str, principal: str, partial: bool = False):
    """One request for principal to rule with method (dry run: nothing it does is kept), as an htmx
    request with partial; its outcome and response."""
    url = url_for_rule(world, rule, principal)
    headers = {DRY_RUN: "1"}
    if partial:
        headers["HX-Request"] = "true"
    if principal == "api":
        headers["Authorization"] = f"Bearer {world.api_token}"
    if method == "GET":
        response = client.get(url, headers=headers)
    elif rule.endpoint.startswith("api."):
        response = client.open(url, method=method, json={}, headers=headers)
    else:
        # With a valid CSRF token, so that what answers is the permission check, not the form's guard.
        # The client's cookies are put back after: a logout or a language change must not stick.
        kept = dict(client._cookies)
        response = client.open(url, method=method, data={"csrf_token": client.csrf_token()}, headers=headers)
        client._cookies.clear()
        client._cookies.update(kept)
    response.close()  # a file sent (static, a download) is closed
    return outcome(response), response
