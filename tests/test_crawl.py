"""Every demo person follows every link they can reach on the demo firm: no page answers 5xx, and every
page that uses htmx loads it, on SQLite and on PostgreSQL. The customer's and courier's link pages are
reached through the staff pages that show them, then opened again without a login, as the customer's
phone would."""
import re
import time

import pytest
from .conftest import DEMO_PEOPLE, PUBLIC_URL, demo_login
from .crawl import Crawler


def crawl_as(app, client, *starts):
    """Crawl from starts as client; return the crawler (its pages and what it saw)."""
    crawler = Crawler(app, client, origins=(PUBLIC_URL, "http://localhost"))
    crawler.crawl(*starts)
    return crawler


def server_errors(pages) -> list[str]:
    """Each page that answered 5xx (or no valid status at all: the test client shows a status
    gunicorn would turn into 500 as 0), with where its link was found."""
    return [f"{page.status} {page.url} (linked from {page.referrer or 'start'})" for page in pages
            if page.status >= 500 or page.status < 100]


HTMX = re.compile(r'<script src="/static/vendor/htmx-4\.0\.1\.min\.[0-9a-f]{8}\.js" defer></script>')


def htmx_missing(pages) -> list[str]:
    """Each full page with an hx- attribute (beyond the CSRF header on every body) that does not load
    htmx: a page leaves it out only when nothing on it uses it (no_htmx, templates/base.html)."""
    return [f"no htmx on {page.url}" for page in pages
            if page.is_html and not page.htmx and "<html" in page.text and not HTMX.search(page.text)
            and set(re.findall(r"\s(hx-[\w:-]+)=", page.text)) - {"hx-headers:inherited"}]


ELEMENT_ID = re.compile(r'<[a-zA-Z][^>]*?\sid="([^"]+)"')


def duplicate_ids(pages) -> list[str]:
    """Each full page where two elements share an id: a label, aria-describedby or a skip link then
    points at the first of them (a page of cards, each with the same form, once did)."""
    found = []
    for page in pages:
        if page.is_html and not page.htmx and "<html" in page.text:
            ids = ELEMENT_ID.findall(re.sub(r"<template\b.*?</template>", "", page.text, flags=re.S))
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                found.append(f"ids used twice on {page.url}: {', '.join(twice[:8])}")
    return found


@pytest.mark.slow
def test_every_demo_person_reaches_no_server_error(demo_app):
    """Each demo login, then the customer links they were shown, crawled anonymously."""
    started = time.monotonic()
    link_paths, errors, fetched = set(), [], 0
    for username in DEMO_PEOPLE:
        crawler = crawl_as(demo_app, demo_login(demo_app, username), "/")
        errors += [f"{username}: {line}" for line in
                   server_errors(crawler.pages) + htmx_missing(crawler.pages) + duplicate_ids(crawler.pages)]
        fetched += len(crawler.pages)
        link_paths |= {page.url for page in crawler.pages if page.url.startswith("/c/")}
        assert len(crawler.pages) > 3, (username, [page.url for page in crawler.pages])
    assert any(path.startswith("/c/") for path in link_paths), "no customer link was reachable"
    customer = crawl_as(demo_app, demo_app.test_client(), *sorted(link_paths))
    errors += [f"customer: {line}" for line in
               server_errors(customer.pages) + htmx_missing(customer.pages) + duplicate_ids(customer.pages)]
    fetched += len(customer.pages)
    assert not errors, "\n".join(errors)
    print(f"crawled {fetched} pages in {time.monotonic() - started:.1f} s")


def test_the_crawler_reaches_forms_htmx_and_link_pages(demo_app):
    """The crawler itself: a GET form's default values, hx-get fragments and absolute customer
    links are followed; logout is never fetched."""
    crawler = crawl_as(demo_app, demo_login(demo_app, "wang.fang"), "/")
    urls = [page.url for page in crawler.pages]
    assert any(url.startswith("/search?q=") for url in urls), urls  # the search form's default value
    assert any(page.htmx and page.url.startswith("/search") for page in crawler.pages)  # its hx-get
    assert any("/versions?" in url and "a=" in url for url in urls), urls  # the versions' GET form
    assert any(url.startswith("/c/") for url in urls), urls
    assert not any(url.startswith("/logout") for url in urls)
    assert any("status=" in url for url in urls), urls  # the list filters
