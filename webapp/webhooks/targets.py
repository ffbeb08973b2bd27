"""Where a webhook may go: http or https only, and never to a loopback, private, link-local,
shared or reserved address unless the admin allowed it for that endpoint. Every address the host
resolves to is checked, when the endpoint is saved and again before each delivery (DNS changes);
the delivery then connects to the address that was checked, so a second lookup cannot swap it."""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..statemachine import N_


class TargetRefused(Exception):
    """The URL may not be used; message is a message id to translate."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (address) and what to ask for there."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, shared,
    multicast, reserved or unspecified; an IPv4 address mapped into IPv6 is judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None or ip.teredo is not None or any(ip in net for net in _IPV4_WRAPPERS):
            # An IPv6 address around an IPv4 one (6to4, Teredo, NAT64, IPv4-compatible) reaches that
            # IPv4 address on networks that translate: refused, whatever the address inside.
            return False
    return ip.is_global and not ip.is_multicast


# IPv6 ranges that carry an IPv4 address: NAT64 (well-known and local-use), IPv4-compatible, IPv4-translated.
_IPV4_WRAPPERS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
                  ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))


def check(url: str, allow_private: bool = False, resolve=socket.getaddrinfo) -> Target:
    """The URL as a Target to connect to, or TargetRefused with the reason."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused(N_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(N_("A webhook URL must start with https:// (or http://)."))
    if not parts.hostname:
        raise TargetRefused(N_("This is not a valid URL."))
    if parts.username or parts.password:
        raise TargetRefused(N_("A webhook URL may not carry a user name or password."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(N_("The host of this URL could not be found.")) from None
    addresses = [info[4][0] for info in found]
    if not addresses:
        raise TargetRefused(N_("The host of this URL could not be found."))
    if not allow_private and not all(is_public(address) for address in addresses):
        raise TargetRefused(N_("This URL leads to a local or private network address. Allow private "
                               "addresses for this endpoint if that is intended."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])
