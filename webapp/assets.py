"""Static files under content-hashed names (DESIGN.md §6: static files carry content-hashed names and
a long cache).

`url_for('static', filename='js/outbox.js')` gives /static/js/outbox.<hash8>.js, the first eight hex digits of
the file's SHA-256 (computed once per file version: the cache is keyed by mtime and size). The static
view strips the hash and serves the file: under its current hash with a year's immutable cache, under
its plain name or an outdated hash (an old service worker's or kept page's copy asks for those) with
no-cache, revalidated by its ETag on every use. The JavaScript modules import each other by relative
plain names; the import map every page carries (import_map()) points those at the hashed names, so a
module is fetched once, under the name its modulepreload announced. A browser without import maps
fetches the plain names and still works."""
import hashlib
import json
import os
import re
from base64 import b64encode
from functools import lru_cache

from flask import Flask, current_app, g, has_app_context, send_from_directory

IMMUTABLE = "public, max-age=31536000, immutable"  # a year: the name changes when the file does
HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{8})(?P<ext>\.[A-Za-z0-9]+)$")
DIGEST_LENGTH = 8


def init_app(app: Flask) -> None:
    """Give url_for('static') the hashed names and let the static view answer them."""
    app.url_defaults(_hashed_url_defaults)
    app.view_functions["static"] = serve
    app.add_template_global(import_map)


@lru_cache(maxsize=1024)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    """The file's content digest; the key holds its version, so an edited file is hashed anew."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            sha.update(chunk)
    return sha.hexdigest()[:DIGEST_LENGTH]


# A served app's static files change only with a deploy, which restarts the server: its digests and
# its import map are kept for the process (two stats per file on every page were a tenth of the scan
# page's time). A debug or test app looks at the files each time, so an edited file is seen at once.
_fixed_digests: dict[tuple[str, str], str | None] = {}
_fixed_modules: dict[str, list[str]] = {}


def _files_may_change() -> bool:
    """Whether static files may change under this process (a debug or test app; no app at all)."""
    return not has_app_context() or current_app.debug or current_app.testing


def digest_of(filename: str, static_folder: str | None = None) -> str | None:
    """The current digest of a static file (None: no such file)."""
    folder = static_folder or current_app.static_folder
    if not _files_may_change():
        key = (folder, filename)
        if key not in _fixed_digests:
            _fixed_digests[key] = _digest_now(os.path.join(folder, filename))
        return _fixed_digests[key]
    return _digest_now(os.path.join(folder, filename))


def _digest_now(path: str) -> str | None:
    """The digest of the file at path as it is now (None: no such file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def hashed_name(filename: str, static_folder: str | None = None) -> str:
    """'js/outbox.js' → 'js/outbox.1a2b3c4d.js' (a missing file keeps its name: the 404 says so)."""
    digest = digest_of(filename, static_folder)
    if digest is None:
        return filename
    stem, ext = os.path.splitext(filename)
    return f"{stem}.{digest}{ext}"


def split(filename: str, static_folder: str | None = None) -> tuple[str, str | None]:
    """The real file a requested name means, and the digest the name carries (None: a plain name)."""
    folder = static_folder or current_app.static_folder
    match = HASHED.match(filename)
    if match is None or os.path.isfile(os.path.join(folder, filename)):
        return filename, None
    return match["stem"] + match["ext"], match["digest"]


def plain_name(filename: str) -> str:
    """The name without its hash ('js/outbox.1a2b3c4d.js' → 'js/outbox.js')."""
    return split(filename)[0]


def _hashed_url_defaults(endpoint: str, values: dict) -> None:
    """url_for('static', filename=…) builds the hashed name."""
    if endpoint == "static" and "filename" in values and not values.pop("_plain", False):
        values["filename"] = hashed_name(values["filename"])


def serve(filename: str):
    """The static view: the current hashed name for a year, anything else revalidated each time."""
    real, digest = split(filename)
    response = send_from_directory(current_app.static_folder, real, max_age=None)
    if real.endswith(".css") and response.status_code == 200:
        # Sent without its comments (compression.py sends the same bytes encoded).
        path = os.path.join(current_app.static_folder, real)
        stat = os.stat(path)
        response.close()
        response.direct_passthrough = False
        response.set_data(sent_bytes(path, stat.st_mtime_ns, stat.st_size))
    if digest is not None and digest == digest_of(real):
        response.headers["Cache-Control"] = IMMUTABLE
    # Otherwise werkzeug's no-cache stays: a plain or outdated name must follow the file's changes.
    return response


def scanner_files(static_folder: str | None = None) -> list[str]:
    """The static names of the scanner's files: its vendored decoder (barcode-detector ponyfill, zxing
    .wasm) and its module. Kept by the service worker for people who scan (webapp/pwa/views.py)."""
    folder = static_folder or current_app.static_folder
    vendor = os.path.join(folder, "vendor")
    names = sorted(n for n in os.listdir(vendor) if os.path.splitext(n)[1] in (".js", ".wasm")
                   and ("barcode" in n or "zxing" in n))
    scanner = ["js/scanner.js"] if os.path.isfile(os.path.join(folder, "js", "scanner.js")) else []
    return [f"vendor/{n}" for n in names] + scanner


# A CSS comment, or a string (kept as it is: it may hold "/*").
CSS_COMMENT = re.compile(r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|/\*.*?\*/""", re.S)


@lru_cache(maxsize=64)
def _sent_css(path: str, mtime_ns: int, size: int) -> bytes:
    """A stylesheet as sent: without its comments (a fifth of app.css, and of its compressed bytes:
    the scan page's HTML and CSS must fit a phone's first round trip). Once per file version."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return CSS_COMMENT.sub(lambda m: m.group(1) or "", text).encode()


def sent_bytes(path: str, mtime_ns: int, size: int) -> bytes:
    """The body a static file is sent with (the file itself, a stylesheet without its comments)."""
    if path.endswith(".css"):
        return _sent_css(path, mtime_ns, size)
    with open(path, "rb") as handle:
        return handle.read()


def module_names(static_folder: str | None = None) -> list[str]:
    """The static names of our JavaScript modules (what the import map covers)."""
    folder = static_folder or current_app.static_folder
    if not _files_may_change():
        if folder not in _fixed_modules:
            _fixed_modules[folder] = _module_names_now(folder)
        return _fixed_modules[folder]
    return _module_names_now(folder)


def _module_names_now(folder: str) -> list[str]:
    """The JavaScript modules under folder/js as they are now."""
    root = os.path.join(folder, "js")
    found = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".js") and name != "sw.js":
                found.append(os.path.relpath(os.path.join(directory, name), folder).replace(os.sep, "/"))
    return sorted(found)


@lru_cache(maxsize=8)
def _import_map(pairs: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The import map's JSON and its CSP hash source, for one set of file versions."""
    text = json.dumps({"imports": dict(pairs)}, separators=(",", ":"))
    digest = b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


def import_map() -> str:
    """The page's import map: each module's plain URL → its hashed URL. Its hash is allowed by this
    response's CSP (an inline script: the policy allows no other)."""
    base = current_app.static_url_path
    pairs = tuple((f"{base}/{name}", f"{base}/{hashed_name(name)}") for name in module_names())
    text, source = _import_map(pairs)
    hashes = g.setdefault("csp_script_hashes", set())
    hashes.add(source)
    return text
