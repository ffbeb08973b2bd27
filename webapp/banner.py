"""Print where the app is served and the demo logins (make run)."""
import socket

from .demo import DEMO_PASSWORD, USERS


def lan_address() -> str | None:
    """This machine's LAN address, from its host name (nothing is sent)."""
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = info[4][0]
            if not address.startswith("127."):
                return address
    except OSError:
        pass
    return None


def main() -> None:
    """Print the URLs and the demo logins."""
    print("\nOrder tracker")
    print("  Local:  http://localhost:8000")
    lan = lan_address()
    if lan and not lan.startswith("127."):
        print(f"  LAN:    http://{lan}:8000   (camera and offline need HTTPS on a phone)")
    import os
    if not os.environ.get("PUBLIC_URL"):
        print("  Links and QR codes use the address a page was opened with. For phones in production set\n"
              "  PUBLIC_URL=https://your.host (camera, offline and WeChat need HTTPS).")
    print("  API:    http://localhost:8000/api/v1/docs   (tokens: My account → API tokens; docs/api.md)")
    print(f"\nDemo logins (password {DEMO_PASSWORD!r}):")
    for username, name, roles, number, pin in USERS:
        extra = f"  employee no. {number}, PIN {pin}" if pin else ""
        print(f"  {username:<11} {', '.join(roles):<12} {name}{extra}")
    print()


if __name__ == "__main__":
    main()
