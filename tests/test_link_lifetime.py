"""A customer link's lifetime as the mail tells it (kept apart from the demo-firm modules: this
test's fresh database would empty theirs on PostgreSQL)."""
from datetime import timedelta

from webapp.extensions import db


def test_a_link_issued_for_n_days_says_n_days(app):
    """The lifetime is measured between one instant, and rounded: a link for 14 days is 14 days
    (created_at used to be stamped at the flush, after expires_at, so 14 days read as 13)."""
    from webapp import links
    with app.app_context(), app.test_request_context():
        for days in (1, 7, 14, 30, 60, 365):
            link = links.issue("survey", days, days=days)
            db.session.flush()
            assert link.valid_days == days
            assert link.expires_at - link.created_at == timedelta(days=days)
