"""Compressed text responses (DESIGN.md §6: every text response is compressed).

Pages, fragments and JSON go through Flask-Compress (brotli, else gzip; above COMPRESS_MIN_SIZE, text
types only, never images or PDFs). Our static files (and the scanner's .wasm) are compressed here
instead, once per file version at the highest levels and kept in memory: Flask-Compress would compress
a streamed static file again on every request. Either way the body varies with Accept-Encoding (the
Vary header says so) and a strong ETag gets the encoding appended, so that a 304 still answers a
browser that kept the compressed copy.
Streamed responses (downloads) are left alone: compressing them would hold back their chunks."""
import gzip
import os
from functools import lru_cache

import brotli
from flask import Flask, current_app, request
from flask_compress import Compress

from . import assets

# brotli first: smaller than gzip at the same cost to decode. Browsers send br over HTTPS only, so a
# phone on plain HTTP (localhost, `make run` on a LAN) gets gzip. No zstd or deflate: two encodings
# every browser we serve has cover every client, and each one more is a body more to test.
ALGORITHMS = ("br", "gzip")
SETTINGS = {
    "COMPRESS_ALGORITHM": list(ALGORITHMS),
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_STREAMS": False,
}
# Our static files worth compressing: text, and the scanner's WebAssembly decoder (1.1 MB, 0.4 MB in
# brotli). PNG icons are compressed already.
STATIC_TYPES = frozenset({"text/css", "text/javascript", "application/javascript", "image/svg+xml",
                          "application/json", "application/manifest+json", "application/wasm"})
# brotli's best level costs seconds on the decoder's megabyte (once per process); level 9 is ~0.5 s.
BEST_BROTLI_UP_TO = 256 * 1024


def init_app(app: Flask) -> None:
    """Compress dynamic text responses (Flask-Compress) and our static files (kept compressed)."""
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    # after_request hooks run last-registered first: the static hook runs before Flask-Compress's,
    # which then leaves the already encoded response alone.
    Compress(app)
    app.after_request(compress_static)


def chosen_encoding() -> str | None:
    """The encoding this request accepts, in our order of preference (None: send it plain).
    Werkzeug parses Accept-Encoding with its q-values ("gzip;q=0" refuses gzip, "*" takes any)."""
    return request.accept_encodings.best_match(ALGORITHMS)


@lru_cache(maxsize=256)
def _compressed(path: str, mtime_ns: int, size: int, encoding: str) -> bytes:
    """A static file's compressed body; the key holds its version, so an edited file is compressed anew."""
    data = assets.sent_bytes(path, mtime_ns, size)  # a stylesheet without its comments
    if encoding == "br":
        return brotli.compress(data, quality=11 if size <= BEST_BROTLI_UP_TO else 9)
    return gzip.compress(data, compresslevel=9, mtime=0)


def compress_static(response):
    """Our static files, compressed when the browser accepts it (304s and ranges stay as they are)."""
    if request.endpoint != "static" or request.method not in ("GET", "HEAD"):
        return response
    response.vary.add("Accept-Encoding")
    encoding = chosen_encoding()
    if (encoding is None or response.status_code != 200 or response.mimetype not in STATIC_TYPES
            or "Content-Encoding" in response.headers):
        return response
    # The file a hashed name (webapp/assets.py) stands for.
    real, _digest = assets.split((request.view_args or {}).get("filename", ""))
    path = os.path.join(current_app.static_folder, real)
    try:
        stat = os.stat(path)
    except OSError:
        return response
    if stat.st_size < current_app.config["COMPRESS_MIN_SIZE"]:
        return response
    body = _compressed(path, stat.st_mtime_ns, stat.st_size, encoding)
    response.close()  # the file Flask opened for the plain body
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    etag, weak = response.get_etag()
    if etag and not weak:
        # Flask-Compress's form ("…:br"): the same validator for the same bytes, from either path.
        response.set_etag(f"{etag}:{encoding}")
    # Flask answered the conditional request before the encoding was known: answer it again.
    return response.make_conditional(request)
