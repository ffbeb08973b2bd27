"""HTTPS on the LAN: the local authority and server certificate, the real `flask serve-https`
trusted through that authority only, and the /certificate page a phone installs it from."""
import base64
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from webapp import tls

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DNS = ["localhost", "shop-pc", "shop-pc.local"]
IPS = ["127.0.0.1", "192.168.1.20"]


def load(path) -> x509.Certificate:
    """A PEM certificate from a file."""
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def san_of(cert: x509.Certificate) -> tuple[set, set]:
    """(DNS names, IP addresses as text) in a certificate's subjectAltName."""
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)), {str(i) for i in san.get_values_for_type(x509.IPAddress)}


@pytest.fixture
def tls_folder(app, tmp_path):
    """Point the app at an empty TLS folder of this test's own (never instance/tls)."""
    folder = tmp_path / "tls"
    app.config["TLS_DIR"] = str(folder)
    return folder


# --- the authority and the server certificate --------------------------------------------------

def test_authority_and_server_certificate(tmp_path):
    """A ten-year CA (CA:TRUE, keyCertSign/cRLSign, critical) signs a ≤ 397-day serverAuth certificate
    for every name and address; the keys are 0600."""
    result = tls.ensure_certificates(str(tmp_path), DNS, IPS)
    assert result["ca_created"] and result["server_issued"] == "missing"
    ca, server = load(tmp_path / "ca.crt"), load(tmp_path / "server.crt")

    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert "Order tracker local CA (" in ca.subject.rfc4514_string()
    assert timedelta(days=3600) < ca.not_valid_after_utc - ca.not_valid_before_utc <= timedelta(days=3660)

    server.verify_directly_issued_by(ca)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    assert server.not_valid_after_utc - server.not_valid_before_utc <= timedelta(days=397)
    assert server.not_valid_before_utc <= datetime.now(timezone.utc)
    assert san_of(server) == (set(DNS), set(IPS))

    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE(os.stat(tmp_path / key).st_mode) == 0o600, key
    assert b"PRIVATE KEY" not in (tmp_path / "ca.crt").read_bytes()


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed")
def test_openssl_verifies_the_chain(tmp_path):
    """`openssl verify -CAfile ca.crt server.crt` accepts the chain, for TLS server use."""
    tls.ensure_certificates(str(tmp_path), DNS, IPS)
    done = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", str(tmp_path / "ca.crt"),
                           str(tmp_path / "server.crt")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and ": OK" in done.stdout, done.stdout + done.stderr


def test_server_certificate_is_reissued_only_when_needed(tmp_path, monkeypatch):
    """Kept while good; re-issued for a new address or near expiry, by the same authority
    (phones keep trusting it); a lost authority key means a new authority and certificate."""
    tls.ensure_certificates(str(tmp_path), DNS, IPS)
    ca_before = (tmp_path / "ca.crt").read_bytes()
    first = load(tmp_path / "server.crt")

    again = tls.ensure_certificates(str(tmp_path), DNS, IPS)
    assert not again["ca_created"] and again["server_issued"] is None
    assert load(tmp_path / "server.crt").serial_number == first.serial_number
    # an address that went away is no reason to re-issue
    assert tls.ensure_certificates(str(tmp_path), DNS, IPS[:1])["server_issued"] is None

    moved = tls.ensure_certificates(str(tmp_path), DNS, [*IPS, "10.0.0.7"])
    assert moved["server_issued"] == "does not cover 10.0.0.7"
    assert "10.0.0.7" in san_of(load(tmp_path / "server.crt"))[1]
    assert (tmp_path / "ca.crt").read_bytes() == ca_before

    monkeypatch.setattr(tls, "RENEW_BEFORE", timedelta(days=400))
    assert tls.ensure_certificates(str(tmp_path), DNS, IPS)["server_issued"] == "expires soon"
    monkeypatch.undo()
    assert (tmp_path / "ca.crt").read_bytes() == ca_before

    (tmp_path / "ca.key").unlink()
    lost = tls.ensure_certificates(str(tmp_path), DNS, IPS)
    assert lost["ca_created"] and lost["server_issued"] == "signed by another authority"
    load(tmp_path / "server.crt").verify_directly_issued_by(load(tmp_path / "ca.crt"))


def test_names_cover_host_lan_and_public_url(app, monkeypatch):
    """localhost, the host name, <name>.local, each LAN address and PUBLIC_URL's host."""
    monkeypatch.setattr(tls.socket, "gethostname", lambda: "Shop-PC")
    monkeypatch.setattr(tls, "lan_addresses", lambda: ["192.168.1.20", "10.8.0.3"])
    app.config["PUBLIC_URL"] = "https://orders.example.com:8443"
    dns, ips = tls.wanted_names(app, extra=("192.168.1.99",))
    assert dns == ["localhost", "shop-pc", "shop-pc.local", "orders.example.com"]
    assert ips == ["127.0.0.1", "192.168.1.20", "10.8.0.3", "192.168.1.99"]


def test_lan_addresses_are_real_ipv4_and_not_loopback():
    """Whatever this machine has: dotted IPv4, never 127.x or link-local, no duplicates."""
    found = tls.lan_addresses()
    assert len(found) == len(set(found))
    for address in found:
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", address)
        assert not address.startswith(("127.", "169.254."))


# --- the real server ---------------------------------------------------------------------------

def fetch(url: str, context: ssl.SSLContext):
    """GET url over HTTPS with context, never through a proxy from the environment; (status, body)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    with opener.open(url, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture
def https_server(tmp_path):
    """The real `flask serve-https` (gunicorn, 1 worker) on a free loopback port, on a migrated
    SQLite file; yields (base URL, TLS folder) and stops the server's process group afterwards."""
    env = {**os.environ, "FLASK_APP": "webapp", "DATABASE_URL": f"sqlite:///{tmp_path / 'https.sqlite3'}",
           "TLS_DIR": str(tmp_path / "tls"), "SECRET_KEY": "https-test",
           "HUEY_URL": f"sqlite:///{tmp_path / 'huey.sqlite3'}"}  # the worker serve-https starts
    env.pop("PUBLIC_URL", None)
    migrate = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    # A session of its own: serve-https execs gunicorn, whose worker shares the group we stop.
    server = subprocess.Popen([sys.executable, "-m", "flask", "serve-https", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "1"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"https://127.0.0.1:{port}"
    try:
        ca_file = tmp_path / "tls" / "ca.crt"
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"serve-https exited with {server.returncode}:\n{log.read()[-3000:]}")
            if ca_file.exists():
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("serve-https did not listen within 60 s:\n" + log.read()[-3000:])
            time.sleep(0.2)
        yield base, tmp_path / "tls"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        log.close()


def test_serve_https_is_trusted_through_the_local_authority_only(https_server):
    """The real server answers /login (200) to a client that trusts only the generated authority,
    as 127.0.0.1 and as localhost; a client with the system's authorities refuses it."""
    base, folder = https_server
    only_ours = ssl.create_default_context(cafile=str(folder / "ca.crt"))
    assert only_ours.check_hostname and only_ours.verify_mode == ssl.CERT_REQUIRED

    deadline = time.monotonic() + 30
    while True:  # the worker may still be booting after the socket opened
        try:
            status, body = fetch(base + "/login", only_ours)
            break
        except (urllib.error.URLError, ConnectionError) as error:
            if isinstance(getattr(error, "reason", None), ssl.SSLCertVerificationError) or time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    assert status == 200 and b'name="password"' in body

    status, _ = fetch(base.replace("127.0.0.1", "localhost") + "/login", only_ours)
    assert status == 200

    with pytest.raises(urllib.error.URLError) as refused:
        fetch(base + "/login", ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)

    # the phone's download over the same connection is exactly the authority on disk, without its key
    status, der = fetch(base + "/certificate/ca.crt", only_ours)
    assert status == 200 and x509.load_der_x509_certificate(der) == load(folder / "ca.crt")
    assert b"PRIVATE" not in der
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE(os.stat(folder / key).st_mode) == 0o600, key


# --- the /certificate page ---------------------------------------------------------------------

def test_certificate_page_without_authority(client, tls_folder):
    """Not served by serve-https: the page says so and points to the docs; downloads are 404."""
    response = client.get("/certificate")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "No certificate here" in body and "<code>docs/operations.md</code>" in body
    assert "<code>make https</code>" in body
    assert "data:image/svg+xml" not in body
    assert client.get("/certificate/ca.crt").status_code == 404
    assert client.get("/certificate/ca.pem").status_code == 404
    assert not tls_folder.exists()  # looking never creates an authority


def test_certificate_page_shows_fingerprint_qr_and_steps(app, client, tls_folder, tmp_path):
    """Anyone may open it (a phone trusts nothing yet): the fingerprint, a QR of the download under
    PUBLIC_URL, the download button, and the Android and iPhone steps; the strict CSP holds."""
    tls.ensure_certificates(str(tls_folder), DNS, IPS)
    ca = load(tls_folder / "ca.crt")
    response = client.get("/certificate")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert ca.fingerprint(hashes.SHA256()).hex(":").upper() in body.replace("<wbr>", "")
    assert 'href="/certificate/ca.crt"' in body
    assert "Encryption & credentials" in body and "Certificate Trust Settings" in body
    assert "style=" not in body and "<script>" not in body

    url = "https://tracker.example.com/certificate/ca.crt"
    assert f'value="{url}"' in body
    svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', body).group(1))
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    if shutil.which("zbarimg"):
        (tmp_path / "qr.svg").write_bytes(svg)
        decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(tmp_path / "qr.svg")],
                                 capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        assert decoded == url


def test_qr_points_a_phone_at_the_lan_address_not_localhost(app, client, tls_folder, monkeypatch):
    """Without PUBLIC_URL, a page opened on the server as localhost shows the LAN address (a
    phone's localhost is the phone); opened by address, it keeps that address."""
    tls.ensure_certificates(str(tls_folder), DNS, IPS)
    app.config["PUBLIC_URL"] = None
    monkeypatch.setattr(tls, "lan_addresses", lambda: ["192.168.1.20"])
    body = client.get("/certificate", base_url="https://localhost:8443").get_data(as_text=True)
    assert 'value="https://192.168.1.20:8443/certificate/ca.crt"' in body
    body = client.get("/certificate", base_url="https://10.1.2.3:8443").get_data(as_text=True)
    assert 'value="https://10.1.2.3:8443/certificate/ca.crt"' in body


def test_ca_downloads_are_the_certificate_and_never_the_key(client, tls_folder):
    """DER as application/x-x509-ca-cert (phones) and PEM (computers), as attachments, without login;
    no private key material in either."""
    tls.ensure_certificates(str(tls_folder), DNS, IPS)
    ca = load(tls_folder / "ca.crt")
    key = serialization.load_pem_private_key((tls_folder / "ca.key").read_bytes(), password=None)
    secret = key.private_numbers().private_value.to_bytes(32, "big")

    der = client.get("/certificate/ca.crt")
    assert der.status_code == 200 and der.mimetype == "application/x-x509-ca-cert"
    assert der.headers["Content-Disposition"] == 'attachment; filename="order-tracker-ca.crt"'
    assert x509.load_der_x509_certificate(der.data) == ca

    pem = client.get("/certificate/ca.pem")
    assert pem.status_code == 200 and pem.mimetype == "application/x-pem-file"
    assert x509.load_pem_x509_certificate(pem.data) == ca

    for response in (der, pem):
        assert b"PRIVATE" not in response.data and secret not in response.data
        assert base64.b64encode(secret)[:20] not in response.data
