"""Security defaults: CSRF, headers and CSP, no stack traces, QR codes that decode to their links. Who
may open which route is tests/test_authorization_matrix.py."""
import base64
import hashlib
import re
import shutil
import subprocess

import pytest

from .helpers import customer_path, text_of


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
