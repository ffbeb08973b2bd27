"""Full page or fragment from the same URL (docs/architecture.md, rules)."""
from flask import get_flashed_messages, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block, render_blocks


def is_htmx() -> bool:
    """Whether htmx made the request."""
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """Whether the request wants a fragment (htmx 4 sends HX-Request-Type: full for history
    restores and boosted navigation, which must get the whole page)."""
    return is_htmx() and request.headers.get("HX-Request-Type") != "full"


def render(template: str, block: str | list[str] | None = None, *, status_code: int = 200, **context):
    """Render the page, or only its named block (or blocks, one after the other: the later ones
    swapped out of band) for a partial htmx request.

    The HTTP status is the keyword-only status_code: every other keyword is template context, so a
    page's own `status` variable (a list's status filter, a record's state) can never become the
    response's status."""
    if block and is_partial():
        if isinstance(block, str):
            html = render_block(template, block, **context)
        else:
            html = render_blocks(template, block, **context)
    else:
        html = render_template(template, **context)
    response = make_response(html, status_code)
    response.vary.add("HX-Request")
    response.vary.add("HX-Request-Type")
    return response


def see_other(url: str):
    """Redirect after an unsafe request (303, so the browser follows with GET)."""
    return redirect(url, code=303)


def note(place: str, text: str, kind: str = "done") -> dict:
    """What an action did (kind "done") or why it was refused ("error"), for the place on the page
    where its form is: the page shows it there (role status or alert), not above the page."""
    return {"place": place, "text": text, "kind": kind}


def flashed_notes() -> list[dict]:
    """The messages flashed before a redirect, as notes: a category "done:<place>" names the place
    on the page; any other message (and "error") goes to the top."""
    if request.headers.get("X-Kept-Page"):
        return []  # a page the service worker keeps for later leaves them to the page being opened
    return [note(category.split(":", 1)[1] if category.startswith("done:") else "top", message,
                 "error" if category == "error" else "done")
            for category, message in get_flashed_messages(with_categories=True)]
