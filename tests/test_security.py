"""Security defaults: CSRF, headers and CSP, no stack traces, every route behind the right gate,
QR codes that decode to their links."""
import base64
import hashlib
import re
import shutil
import subprocess

import pytest

from .helpers import customer_path, text_of

# Routes anyone may open; everything else needs a login.
PUBLIC_ENDPOINTS = {"auth.login", "auth.badge", "auth.set_language", "public.open_link",
                    "public.confirm_requirement", "public.clarify_requirement", "public.requirement_file",
                    "public.countersign", "main.health", "static",
                    "shipping.courier_dispatch", "shipping.courier_problem", "shipping.courier_receipt",
                    "shipping.sign", "shipping.receipt_photo",
                    # a phone becomes a floor phone with a supervisor's one-time code, before any login
                    "auth.enrol", "auth.enrol_qr",
                    # the installable app's files and pages: no data in them, needed before any login
                    "pwa.service_worker", "pwa.manifest", "pwa.offline", "pwa.outbox",
                    # a phone must reach the certificate page before it trusts this server
                    "tls.certificate", "tls.ca_crt", "tls.ca_pem",
                    # signing in through WeCom or DingTalk happens before any login: the start, the
                    # provider's way back (state bound to this browser) and the POST that signs in
                    # (tests/test_sign_in_external.py); 404 while the provider is not configured
                    "auth.external_start", "auth.external_callback", "auth.external_finish"}


def test_post_without_csrf_token_is_refused(app, as_user, make_customer):
    """A form posted without its token (or from another site) is a 400 with a message."""
    sales = as_user("sales")
    customer_id = make_customer()
    response = sales.post("/requirements/new", csrf=False, data={"customer_id": customer_id, "product": "x"})
    assert response.status_code == 400 and "The form expired" in text_of(response)


def test_security_headers_and_strict_csp(client):
    """CSP without unsafe-inline or unsafe-eval, and the usual hardening headers, on every page."""
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers.get("X-Request-Id")
    # no inline script or style in the page itself
    body = text_of(response)
    # (a JSON data block is not executed, so CSP does not apply to it)
    # The one inline script is the import map (webapp/assets.py), allowed by its hash alone.
    maps = re.findall(r'<script type="importmap">(.*?)</script>', body, re.S)
    assert len(maps) == 1
    digest = base64.b64encode(hashlib.sha256(maps[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    body = body.replace(f'<script type="importmap">{maps[0]}</script>', "")
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", body)
    assert "style=" not in body and "<style" not in body


def test_unexpected_error_shows_no_stack_trace(app, as_user, monkeypatch):
    """A crash is a translated 500 page without any trace, and the transaction is rolled back."""
    from webapp.main import views
    sales = as_user("sales")

    def explode(user):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(views, "collect", explode)
    response = sales.get("/")
    assert response.status_code == 500
    body = text_of(response)
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong" in body


def test_every_route_is_gated(app, client):
    """The authorisation matrix: every route is public by design or needs a login."""
    seen = set()
    for index, rule in enumerate(app.url_map.iter_rules()):
        seen.add(rule.endpoint)
        # Staff capabilities (a work order's or a lot's label) need a login as well as the token.
        if "<token>" in rule.rule and rule.endpoint not in ("production.floor", "stock.lot_by_token",
                                                                 "shipping.carton_by_token") \
                and not rule.rule.startswith(("/w/", "/o/")):
            # customer and courier links: public, and a token that is not live opens nothing. Each from
            # an address of its own: dead links from one address soon answer 429 (test_rate_limits).
            url = re.sub(r"<int:\w+>", "1", rule.rule.replace("<token>", "A" * 32))
            stranger = {"REMOTE_ADDR": f"198.18.{index // 250}.{index % 250 + 1}"}
            response = (client.get(url, environ_base=stranger) if "GET" in rule.methods
                        else client.post(url, data={}, environ_base=stranger))
            assert response.status_code == 404, (rule.rule, response.status_code)
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.endpoint.startswith("api."):
            # The JSON API: without a token, 401 problem+json (never the login page's redirect); its
            # document and reference page hold no data and are open.
            from webapp.api.core import PUBLIC_ENDPOINTS as API_PUBLIC
            if rule.endpoint in API_PUBLIC:
                continue
            url = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)
            method = next(iter(rule.methods - {"HEAD", "OPTIONS"}))
            response = client.open(url, method=method, json={})
            assert response.status_code == 401 and response.mimetype == "application/problem+json", (url, response)
            continue
        url = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)
        if "GET" in rule.methods:
            response = client.get(url)
        else:  # with a valid CSRF token, so that the login check itself is what refuses
            response = client.post(url, data={})
        assert response.status_code == 302, (rule.rule, response.status_code)
        assert "/login" in response.headers["Location"], rule.rule
    assert PUBLIC_ENDPOINTS <= seen


ROLE_PAGES = {
    "/scan": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager",
              "aftersales", "worker", "courier"},
    "/sync/conflicts": {"operations", "production", "warehouse", "manager", "admin"},
    "/sync/devices": {"admin"},
    "/admin/": {"admin"},
    "/admin/settings": {"admin"},
    "/admin/notifications": {"admin"},
    "/admin/notifications/robots/new": {"admin"},
    "/admin/webhooks": {"admin"},
    "/admin/webhooks/new": {"admin"},
    "/requirements/new": {"sales"},
    "/orders/new": {"sales"},
    "/customers/new": {"sales", "manager", "admin"},
    "/customers/products/new": {"warehouse", "production", "manager", "admin"},
    "/orders/": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "finance",
                 "manager", "aftersales"},
    "/kpi/": {"admin", "sales", "operations", "finance", "manager"},
}


@pytest.mark.parametrize("role", ["admin", "sales", "operations", "production", "purchasing", "warehouse", "qc",
                                  "finance", "manager", "aftersales", "worker", "courier"])
def test_role_matrix(role, as_user):
    """Each role reaches exactly the pages its role allows (200) and is refused the others (403)."""
    client = as_user(role)
    for path, roles in ROLE_PAGES.items():
        expected = 200 if role in roles else 403
        assert client.get(path).status_code == expected, (role, path)


def test_workers_see_no_prices(app, make_order, as_user):
    """A floor worker or courier cannot open orders (prices, customer contacts)."""
    order_id = make_order("effective")
    for role in ("worker", "courier"):
        assert as_user(role).get(f"/orders/{order_id}").status_code == 403


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_link_qr_decodes_to_the_link(app, make_order, as_user, tmp_path):
    """The QR image shown to staff decodes (zbar) to the absolute customer URL under PUBLIC_URL."""
    order_id = make_order("awaiting_countersign")
    sales = as_user("sales")
    page = text_of(sales.get(f"/orders/{order_id}"))
    qr_path = re.search(r'src="(/links/\d+/qr\.svg)"', page).group(1)
    response = sales.get(qr_path)
    assert response.mimetype == "image/svg+xml"
    svg = tmp_path / "qr.svg"
    svg.write_bytes(response.data)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(svg)], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert decoded == "https://tracker.example.com" + customer_path(app, "order_countersign", order_id)
    # the QR is for staff only
    assert app.test_client().get(qr_path).status_code == 302
