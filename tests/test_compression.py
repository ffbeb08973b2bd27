"""Text responses are compressed when the browser asks (brotli, else gzip) and plain when it does not,
with Vary: Accept-Encoding; images are not; a static file's ETag still answers 304 (webapp/compression.py)."""
import gzip

import brotli


def test_a_page_is_gzip_encoded_when_asked_and_plain_when_not(client):
    """The login page: gzip for a browser that takes gzip, brotli for one that takes it, plain otherwise."""
    plain = client.get("/login")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    html = plain.get_data()
    assert b"<html" in html and "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/login", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data()) < len(html) / 2
    assert b"<html" in gzip.decompress(zipped.get_data())
    br = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert br.headers["Content-Encoding"] == "br" and b"<html" in brotli.decompress(br.get_data())
    refused = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_an_htmx_fragment_is_compressed_and_keeps_its_vary(as_user):
    """A partial htmx answer is compressed too, its Vary naming the htmx headers and the encoding."""
    client = as_user("sales")
    response = client.get("/", headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    vary = {part.strip().lower() for part in response.headers["Vary"].split(",")}
    assert {"hx-request", "accept-encoding"} <= vary
    if len(gzip.decompress(response.get_data())) >= 500:
        assert response.headers["Content-Encoding"] == "gzip"


def test_static_scripts_are_compressed_once_and_still_answer_304(client):
    """htmx gzip-encoded with an ETag of its own, which a later request gets a 304 for; plain asks get
    the plain file and its own ETag; the scanner's .wasm is encoded too, a PNG icon never."""
    url = "/static/vendor/htmx-4.0.1.min.js"
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    body = plain.get_data()
    plain.close()  # a plain static answer streams the file: close it, as the server does
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == body and len(zipped.get_data()) < len(body) / 2
    assert zipped.headers["ETag"] != plain.headers["ETag"] and zipped.headers["ETag"].endswith(':gzip"')
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()
    # the plain copy's validator does not stand for the encoded bytes, nor the other way round
    mixed = client.get(url, headers={"If-None-Match": zipped.headers["ETag"]})
    assert mixed.status_code == 200 and mixed.get_data() == body
    mixed.close()
    unchanged = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
    assert unchanged.status_code == 304
    unchanged.close()
    br = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.get_data()) == body
    refused = client.get(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})  # q=0 refuses an encoding
    assert "Content-Encoding" not in refused.headers and refused.get_data() == body
    refused.close()
    wasm = client.get("/static/vendor/zxing_reader-3.1.3.wasm", headers={"Accept-Encoding": "gzip"})
    assert wasm.headers["Content-Encoding"] == "gzip" and wasm.mimetype == "application/wasm"
    assert len(wasm.get_data()) < 500_000  # the scanner's decoder: 1.1 MB plain
    icon = client.get("/static/icons/icon-512.png", headers={"Accept-Encoding": "gzip, br"})
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers
    icon.close()


def test_the_service_worker_is_compressed_and_never_cached(client):
    """/sw.js is a text response like the others; its no-cache stays."""
    response = client.get("/sw.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and response.headers["Cache-Control"] == "no-cache"
    assert b"importScripts(SETTINGS.store)" in gzip.decompress(response.get_data())
