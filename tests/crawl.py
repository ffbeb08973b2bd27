"""A reusable crawler for tests: log in as a person, follow every same-origin GET link they can
reach (<a href>, hx-get, GET forms with their default values, query strings included) and keep
every page. Tests for 5xx, words, layout, CSP and permissions reuse what it collects.

Bounded: each distinct (endpoint, sorted query-key set, htmx or not) is fetched for at most
`per_pattern` URLs, and a crawl stops after `max_pages` pages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

# Endpoints a crawler must not GET: they end the session it crawls with.
UNSAFE_ENDPOINTS = frozenset({"auth.logout"})
# Not pages: static files and the service worker's assets (their own tests cover them).
SKIPPED_PREFIXES = ("/static/",)


@dataclass
class Page:
    """One fetched URL and what came back."""

    url: str
    status: int
    content_type: str
    text: str
    htmx: bool = False
    referrer: str = ""

    @property
    def is_html(self) -> bool:
        """Whether the body is an HTML page or fragment (parsed for links and words)."""
        return self.content_type.startswith("text/html")


class _LinkParser(HTMLParser):
    """The GET targets in a page: hrefs, images, hx-gets, GET forms with their default values, and
    links shown to copy (readonly inputs holding a URL: the customer links staff send)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, bool]] = []  # (url, fetched by htmx)
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("a", "area") and attributes.get("href"):  # downloads too: fetched, not parsed
            self.links.append((attributes["href"], False))
        if tag == "img" and attributes.get("src"):  # QR codes and photos the app serves
            self.links.append((attributes["src"], False))
        if tag == "input" and "readonly" in attributes and (attributes.get("value") or "").startswith("http"):
            self.links.append((attributes["value"], False))  # a link shown to copy (a customer's)
        if attributes.get("hx-get"):
            self.links.append((attributes["hx-get"], True))
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._form = {"action": attributes.get("action") or "", "fields": []} if method == "get" else None
        elif self._form is not None and tag in ("input", "button") and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            self._form["fields"].append((attributes["name"], attributes.get("value") or ""))
        elif self._form is not None and tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self._form["fields"].append((self._select, None))  # filled by the first or selected option
        elif self._form is not None and tag == "option" and self._select:
            fields = self._form["fields"]
            index = max(i for i, (name, _) in enumerate(fields) if name == self._select)
            if fields[index][1] is None or "selected" in attributes:
                fields[index] = (self._select, attributes.get("value", ""))
        elif self._form is not None and tag == "textarea" and attributes.get("name"):
            self._form["fields"].append((attributes["name"], ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            fields = [(name, value or "") for name, value in self._form["fields"]]
            action = self._form["action"]
            separator = "&" if "?" in action else "?"
            self.links.append((action + (separator + urlencode(fields) if fields else ""), False))
            self._form = None


def links_in(html: str) -> list[tuple[str, bool]]:
    """Every GET target of a page, as written (relative or absolute), with whether htmx fetches it."""
    parser = _LinkParser()
    parser.feed(html)
    return parser.links


@dataclass
class Crawler:
    """Crawl an app as one client (logged in or not). `origins` are the absolute bases that count
    as this app (PUBLIC_URL: the customer links staff pages show are absolute)."""

    app: object
    client: object
    origins: tuple[str, ...] = ("http://localhost",)
    per_pattern: int = 3
    max_pages: int = 600
    pages: list[Page] = field(default_factory=list)

    def __post_init__(self):
        self._seen: set[tuple[str, bool]] = set()
        self._per_key: dict[tuple, int] = {}
        self._adapter = self.app.url_map.bind("localhost")

    def local_path(self, url: str, base: str) -> str | None:
        """The path+query of a same-origin URL, or None for another site, a fragment or a scheme."""
        url = url.strip()
        if not url or url.startswith(("#", "mailto:", "tel:", "javascript:", "data:", "blob:", "sms:")):
            return None
        for origin in self.origins:
            if url.startswith(origin.rstrip("/") + "/"):
                url = url[len(origin.rstrip("/")):]
                break
        absolute = urljoin("http://localhost" + base, url)
        parts = urlsplit(absolute)
        if parts.scheme != "http" or parts.netloc != "localhost":
            return None
        if parts.path.startswith(SKIPPED_PREFIXES):
            return None
        return parts.path + ("?" + parts.query if parts.query else "")

    def endpoint(self, path: str) -> str:
        """The Flask endpoint a path reaches ('?' for none)."""
        try:
            endpoint, _ = self._adapter.match(urlsplit(path).path, method="GET")
            return endpoint
        except RequestRedirect:
            return "redirect"
        except HTTPException:
            return "?"

    def key(self, path: str, htmx: bool) -> tuple:
        """What makes two URLs the same kind of page: endpoint, sorted query keys, htmx or not."""
        query = urlsplit(path).query
        return self.endpoint(path), tuple(sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)})), htmx

    def crawl(self, *starts: str) -> list[Page]:
        """Fetch every reachable page from starts (breadth first) and return the pages fetched."""
        queue: list[tuple[str, bool, str]] = [(start, False, "") for start in starts]
        forced = set(starts)  # every start is fetched, whatever its kind (each customer link)
        while queue and len(self.pages) < self.max_pages:
            path, htmx, referrer = queue.pop(0)
            if (path, htmx) in self._seen:
                continue
            key = self.key(path, htmx)
            if key[0] in UNSAFE_ENDPOINTS:
                continue
            if self._per_key.get(key, 0) >= self.per_pattern and not (path in forced and not referrer):
                continue
            self._seen.add((path, htmx))
            self._per_key[key] = self._per_key.get(key, 0) + 1
            headers = {"HX-Request": "true"} if htmx else {}
            response = self.client.get(path, headers=headers)
            try:
                content_type = response.headers.get("Content-Type", "")
                text = response.get_data(as_text=True) if content_type.startswith(("text/", "application/json")) else ""
            finally:
                response.close()
            page = Page(path, response.status_code, content_type, text, htmx, referrer)
            self.pages.append(page)
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                target = self.local_path(response.headers["Location"], path)
                if target:
                    queue.append((target, htmx, path))
            if page.is_html:
                for url, by_htmx in links_in(text):
                    target = self.local_path(url, urlsplit(path).path)
                    if target and (target, by_htmx) not in self._seen:
                        queue.append((target, by_htmx, path))
        return self.pages


def visible_text(html: str) -> str:
    """The text a person sees: tags, scripts, styles, templates and comments stripped; attribute
    text people read (placeholder, title, aria-label, alt, value of buttons) kept."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    readable = []
    for match in re.finditer(r'\s(?:placeholder|title|aria-label|alt)="([^"]*)"', html):
        readable.append(match.group(1))
    text = re.sub(r"<[^>]+>", "\n", html)
    from html import unescape
    return unescape(text + "\n" + "\n".join(readable))
