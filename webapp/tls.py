"""HTTPS on the LAN: a local certificate authority, `flask serve-https`, and the page a phone installs it from.

A phone only gives a page its camera, service worker and crypto.randomUUID over HTTPS (plain HTTP
counts as secure on localhost only). On a small firm's LAN there is no public name for a real
certificate, so `flask serve-https` makes a certificate authority once (instance/tls/ca.crt, ten
years), installs nothing anywhere, and signs a short-lived server certificate for every address
this machine has. Each phone installs the authority once from /certificate; the server
certificate is re-issued on start when it nears expiry or the machine has a new address.
"""
import base64
import ipaddress
import os
import re
import socket
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import click
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Blueprint, Response, abort, current_app, request, url_for
from flask.cli import AppGroup, with_appcontext

bp = Blueprint("tls", __name__)

CA_DAYS = 3650
# iOS refuses server certificates valid for longer than 398 days; stay a day inside the limit.
SERVER_DAYS = 397
RENEW_BEFORE = timedelta(days=30)
# Phones with a clock a little behind must not see a certificate "from the future".
BACKDATE = timedelta(hours=1)
HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


# --- where the files live ----------------------------------------------------------------------

def tls_dir(app=None) -> str:
    """The folder with the authority and the server certificate (TLS_DIR, else instance/tls)."""
    app = app or current_app
    # The environment is read too: serve-https hands its folder to the gunicorn workers that way.
    return app.config.get("TLS_DIR") or os.environ.get("TLS_DIR") or os.path.join(app.instance_path, "tls")


def paths(folder: str) -> dict[str, str]:
    """The four files in folder."""
    return {name: os.path.join(folder, name) for name in ("ca.key", "ca.crt", "server.key", "server.crt")}


def _write(path: str, data: bytes, private: bool) -> None:
    """Write a file atomically; private keys are readable by their owner only (0600)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600 if private else 0o644)  # the umask must not widen or narrow it
    os.replace(tmp, path)


def _read_cert(path: str) -> x509.Certificate | None:
    """The PEM certificate at path, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            return x509.load_pem_x509_certificate(fh.read())
    except (OSError, ValueError):
        return None


def _read_key(path: str):
    """The PEM private key at path, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as fh:
            return serialization.load_pem_private_key(fh.read(), password=None)
    except (OSError, ValueError, TypeError):
        return None


def _public_der(public_key) -> bytes:
    """A public key's bytes, to tell whether a key and a certificate belong together."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_pem(key) -> bytes:
    """A private key as unencrypted PKCS#8 PEM (the file itself is 0600)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# --- which names the server certificate must cover ---------------------------------------------

def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, the one with the default route first."""
    found: list[str] = []

    def add(address: str) -> None:
        """Keep address if it is a usable IPv4 address not seen yet."""
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            return
        # Loopback is added separately; link-local addresses come and go and no phone uses them.
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified) and address not in found:
            found.append(address)

    try:
        # A UDP "connect" only asks the routing table which address would be used: nothing is sent.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("203.0.113.1", 9))
            add(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            add(info[4][0])
    except OSError:
        pass
    for address in sorted(_interface_addresses(), key=ipaddress.IPv4Address):
        add(address)
    return found


def _interface_addresses() -> list[str]:
    """Every interface's IPv4 address through SIOCGIFADDR (Linux, macOS); empty elsewhere."""
    request_code = {"linux": 0x8915, "darwin": 0xC0206921}.get(sys.platform)
    if request_code is None or not hasattr(socket, "if_nameindex"):
        return []
    import fcntl
    import struct
    addresses = []
    try:
        interfaces = socket.if_nameindex()
    except OSError:
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in interfaces:
            try:
                # struct ifreq: 16 bytes of name, then a sockaddr_in whose address starts at byte 20.
                packed = fcntl.ioctl(sock.fileno(), request_code, struct.pack("256s", name.encode()[:15]))
            except OSError:  # an interface without an IPv4 address
                continue
            addresses.append(socket.inet_ntoa(packed[20:24]))
    return addresses


def wanted_names(app=None, extra: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the server certificate must cover right now."""
    app = app or current_app
    dns = ["localhost"]
    ips = ["127.0.0.1"]

    def add(host: str | None) -> None:
        """File host under names or addresses, once; skip what is not a valid host name."""
        if not host:
            return
        host = host.strip().lower().rstrip(".")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if HOSTNAME_RE.match(host) and host not in dns:
                dns.append(host)
            return
        if not ip.is_unspecified and str(ip) not in ips:
            ips.append(str(ip))

    hostname = socket.gethostname().lower()
    short = hostname.split(".")[0]
    add(hostname)
    add(short)
    # Phones on the same Wi-Fi find a Mac or an Avahi-running Linux box as <name>.local.
    add(f"{short}.local")
    for address in lan_addresses():
        add(address)
    if app.config.get("PUBLIC_URL"):
        add(urlsplit(app.config["PUBLIC_URL"]).hostname)
    for host in extra:
        add(host)
    return dns, ips


# --- the authority and the server certificate --------------------------------------------------

def _new_ca(hostname: str) -> tuple[object, x509.Certificate]:
    """A fresh authority key and its self-signed certificate (ten years)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"Order tracker local CA ({hostname})"[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Order tracker"),
    ])
    now = datetime.now(timezone.utc) - BACKDATE
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _new_server_cert(ca_key, ca_cert: x509.Certificate, dns: list[str], ips: list[str]):
    """A server key and certificate for dns and ips, signed by the authority (397 days)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc) - BACKDATE
    # Never outlive the authority: a chain with an expired root fails everywhere.
    not_after = min(now + timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            # The common name is only a label (clients match subjectAltName): the host name.
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[1] if len(dns) > 1 else dns[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def server_cert_problem(cert: x509.Certificate | None, ca_cert: x509.Certificate,
                        dns: list[str], ips: list[str]) -> str | None:
    """Why the server certificate must be re-issued (missing, other authority, expiring, a new name), or None."""
    if cert is None:
        return "missing"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "signed by another authority"
    if cert.not_valid_after_utc - datetime.now(timezone.utc) < RENEW_BEFORE:
        return "expires soon"
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "no subjectAltName"
    have_dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    missing = [n for n in dns if n not in have_dns] + [i for i in ips if i not in have_ips]
    if missing:
        return "does not cover " + ", ".join(missing)
    return None


def ensure_certificates(folder: str, dns: list[str], ips: list[str], renew: bool = False) -> dict:
    """Make the authority if needed and (re-)issue the server certificate if needed; say what was done."""
    # Returns {"ca_created": bool, "server_issued": the reason or None, "paths": the four files}.
    os.makedirs(folder, mode=0o700, exist_ok=True)
    files = paths(folder)
    ca_key, ca_cert = _read_key(files["ca.key"]), _read_cert(files["ca.crt"])
    ca_created = False
    if (ca_key is None or ca_cert is None or ca_cert.not_valid_after_utc <= datetime.now(timezone.utc)
            or _public_der(ca_key.public_key()) != _public_der(ca_cert.public_key())):
        ca_key, ca_cert = _new_ca(socket.gethostname())
        _write(files["ca.key"], _key_pem(ca_key), private=True)
        _write(files["ca.crt"], ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
        ca_created = True
    server_key, server_cert = _read_key(files["server.key"]), _read_cert(files["server.crt"])
    if server_key is None or (server_cert is not None
                              and _public_der(server_key.public_key()) != _public_der(server_cert.public_key())):
        server_cert = None  # e.g. a run interrupted between writing the two files
    reason = "renewal asked for" if renew else server_cert_problem(server_cert, ca_cert, dns, ips)
    if reason:
        key, cert = _new_server_cert(ca_key, ca_cert, dns, ips)
        # The key first: a server certificate next to an old key would not load.
        _write(files["server.key"], _key_pem(key), private=True)
        _write(files["server.crt"], cert.public_bytes(serialization.Encoding.PEM), private=False)
    return {"ca_created": ca_created, "server_issued": reason, "paths": files}


def ensure_for_app(app=None, extra: tuple[str, ...] = (), renew: bool = False) -> dict:
    """ensure_certificates for this app's folder and this machine's current names."""
    app = app or current_app
    dns, ips = wanted_names(app, extra)
    return ensure_certificates(tls_dir(app), dns, ips, renew=renew)


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint as phones show it: AB:CD:…"""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_ca(app=None) -> x509.Certificate | None:
    """The authority's certificate, or None when serve-https never made one."""
    return _read_cert(paths(tls_dir(app))["ca.crt"])


# --- the page a phone installs the authority from ----------------------------------------------

def phone_url(path: str) -> str:
    """path as a phone on the LAN can open it: under PUBLIC_URL, else this request's address."""
    # Opened on the server itself as localhost, show the LAN address instead: a phone's localhost
    # is the phone.
    from .links import absolute
    if current_app.config.get("PUBLIC_URL"):
        return absolute(path)
    parts = urlsplit(request.host_url)
    host = parts.hostname or "localhost"
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    lan = lan_addresses() if loopback else []
    if lan:
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{lan[0]}{port}{path}"
    return absolute(path)


@bp.get("/certificate")
def certificate():
    """How to trust this server on a phone: why, the QR and download, and the steps (no login)."""
    from .htmx import render
    from .links import qr_svg
    ca = load_ca()
    context = {"ca": ca}
    if ca is not None:
        url = phone_url(url_for("tls.ca_crt"))
        svg = base64.b64encode(qr_svg(url)).decode()
        context.update(url=url, qr=f"data:image/svg+xml;base64,{svg}", fingerprint=fingerprint(ca),
                       ca_name=ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
                       valid_until=ca.not_valid_after_utc)
    return render("tls/certificate.html", **context)


def _ca_download(encoding: serialization.Encoding, mimetype: str, filename: str) -> Response:
    """The authority's certificate (never its key) as a download, or 404 when there is none."""
    ca = load_ca()
    if ca is None:
        abort(404)
    response = Response(ca.public_bytes(encoding), mimetype=mimetype)
    # An attachment: Android's Chrome then saves it to Downloads for Settings to install (it may
    # not hand a CA certificate to an installer itself); Safari on iOS offers it as a profile.
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A new authority (after `rm -r instance/tls`) must not be hidden behind a cached old one.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/certificate/ca.crt")
def ca_crt():
    """The authority's certificate in DER, the form both Android and iOS install."""
    return _ca_download(serialization.Encoding.DER, "application/x-x509-ca-cert", "order-tracker-ca.crt")


@bp.get("/certificate/ca.pem")
def ca_pem():
    """The authority's certificate in PEM, for computers (Firefox, Linux, macOS Keychain)."""
    return _ca_download(serialization.Encoding.PEM, "application/x-pem-file", "order-tracker-ca.pem")


# --- command line ------------------------------------------------------------------------------

tls_group = AppGroup("tls", help="The local certificate authority for HTTPS on the LAN.")


def _report(result: dict, ca: x509.Certificate, server: x509.Certificate) -> None:
    """Print what ensure_certificates did and what the server certificate covers."""
    files = result["paths"]
    if result["ca_created"]:
        click.echo(f"Created a new certificate authority: {files['ca.crt']}")
        click.echo("  Every phone must install it (once) from /certificate.")
    else:
        click.echo(f"Certificate authority: {files['ca.crt']}")
    click.echo(f"  SHA-256 {fingerprint(ca)}")
    if result["server_issued"]:
        click.echo(f"Issued a server certificate ({result['server_issued']}): {files['server.crt']}")
    else:
        click.echo(f"Server certificate still good: {files['server.crt']}")
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = san.get_values_for_type(x509.DNSName) + [str(i) for i in san.get_values_for_type(x509.IPAddress)]
    click.echo(f"  covers {', '.join(names)}; valid until {server.not_valid_after_utc:%Y-%m-%d}")


@tls_group.command("init")
@click.option("--renew", is_flag=True, help="Issue a new server certificate even if the current one is good.")
def tls_init(renew: bool) -> None:
    """Make the certificate authority (once) and a server certificate for this machine's addresses."""
    result = ensure_for_app(renew=renew)
    files = result["paths"]
    _report(result, _read_cert(files["ca.crt"]), _read_cert(files["server.crt"]))


@click.command("serve-https")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve_https(host: str, port: int, workers: int) -> None:
    """Serve the app over HTTPS with gunicorn, using (and if needed making) the local authority."""
    app = current_app._get_current_object()
    specific = () if host in ("0.0.0.0", "::", "") else (host,)
    result = ensure_for_app(app, extra=specific)
    files = result["paths"]
    _report(result, _read_cert(files["ca.crt"]), _read_cert(files["server.crt"]))
    hosts = list(specific) or ["localhost", *lan_addresses()]
    shown = [f"[{h}]" if ":" in h else h for h in hosts]
    click.echo("\nOrder tracker over HTTPS")
    for h in shown:
        click.echo(f"  https://{h}:{port}/")
    lan = [h for h in shown if h not in ("localhost", "127.0.0.1")]
    base = (app.config.get("PUBLIC_URL") or f"https://{(lan or shown)[0]}:{port}").rstrip("/")
    click.echo(f"\nOn each phone, install the certificate once: {base}/certificate")
    click.echo("  (the phone warns about the connection until then; compare the SHA-256 above)\n")
    folder = os.path.dirname(files["ca.crt"])
    env = {**os.environ, "TLS_DIR": folder}  # the workers' /certificate page reads the same folder
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers), "--threads", "4",
            "--access-logfile", "-", "--logger-class", "webapp.capabilities.GunicornLogger", "--certfile", files["server.crt"], "--keyfile", files["server.key"],
            "--config", "python:webapp.serving",  # the background worker starts and stops with gunicorn
            "webapp:create_app()"]
    if _gunicorn_has("control_socket_disable"):
        # gunicorn ≥ 25.1 opens ~/.gunicorn/gunicorn.ctl by default: `make run` and `make https`
        # side by side would fight over that one path, and nothing here uses it.
        argv.insert(-1, "--no-control-socket")
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child process: gunicorn becomes this process, so Ctrl-C and kill reach it directly.
    os.execve(sys.executable, argv, env)


def _gunicorn_has(setting: str) -> bool:
    """Whether the installed gunicorn knows setting (its options grew over versions)."""
    from gunicorn.config import KNOWN_SETTINGS
    return any(known.name == setting for known in KNOWN_SETTINGS)


def init_app(app) -> None:
    """Register `flask tls init` and `flask serve-https`, and the /certificate page unless the app is
    configured without the local authority (LOCAL_CA=0: behind a real certificate)."""
    app.cli.add_command(tls_group)
    app.cli.add_command(serve_https)
    if app.config.get("LOCAL_CA", True):
        app.register_blueprint(bp)
