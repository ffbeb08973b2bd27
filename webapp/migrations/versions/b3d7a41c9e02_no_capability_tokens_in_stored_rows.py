"""no capability tokens in stored rows; rate counters; a conflict's link

Idempotency records and sync conflicts kept the request path, and for a customer or courier link
that path is the credential (`/c/<token>/receipt` signs a receipt). Rows stored before this revision
are rewritten to what the application stores now: the endpoint's name and the object the token
stands for ("shipping.courier_problem link=12", "production.report work_order=5"); the link is
found by the SHA-256 of the token, as the application finds it. Stored fingerprints are left as
they are: the replay code accepts the old form too (webapp/sync/replay.py).

Revision ID: b3d7a41c9e02
Revises: f2a295529976
Create Date: 2026-11-28 19:00:00

"""
import hashlib
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d7a41c9e02'
down_revision = 'f2a295529976'
branch_labels = None
depends_on = None

# The offline-capable and link routes as they were when paths were stored (frozen here: a
# migration must not depend on how the routes look later). (pattern after the token, endpoint).
LINK_ROUTES = (
    (r"/dispatch", "shipping.courier_dispatch"),
    (r"/problem", "shipping.courier_problem"),
    (r"/receipt", "shipping.sign"),
    (r"/confirm", "public.confirm_requirement"),
    (r"/clarify", "public.clarify_requirement"),
    (r"/sign", "public.countersign"),
    (r"", "public.open_link"),
)
AFTERSALES_ROUTES = (
    (r"/tickets", "aftersales.customer_ticket"),
    (r"/tickets/(?P<ticket_id>\d+)/reply", "aftersales.customer_reply"),
    (r"/tickets/(?P<ticket_id>\d+)/confirm", "aftersales.customer_confirm"),
    (r"/survey", "aftersales.customer_survey"),
)
LABEL_ROUTES = (
    (r"/report", "production.report"),
    (r"/anomaly", "production.anomaly"),
    (r"/do/(?P<name>[^/]+)", "production.move"),
    (r"", "production.floor"),
)
TOKEN = r"(?P<token>[^/?#]+)"
PREFIXES = (("/aftersales/c/", AFTERSALES_ROUTES, "link"), ("/c/", LINK_ROUTES, "link"),
            ("/w/", LABEL_ROUTES, "work_order"))


def describe(path: str, find_link, find_work_order) -> tuple[str, int | None] | None:
    """(what the application stores now, the link's id) for an old stored path with a token in it;
    None for a path without one (left as it is: it holds no credential)."""
    for prefix, routes, kind in PREFIXES:
        if not path.startswith(prefix):
            continue
        for rest, endpoint in routes:
            match = re.fullmatch(re.escape(prefix) + TOKEN + rest, path)
            if match is None:
                continue
            token = match.group("token")
            object_id = find_link(token) if kind == "link" else find_work_order(token)
            parts = [endpoint, f"{kind}={object_id if object_id is not None else '?'}"]
            parts += [f"{name}={value}" for name, value in match.groupdict().items() if name != "token"]
            return " ".join(parts), (object_id if kind == "link" else None)
        # A path under a token prefix that no frozen route matches: keep the name of neither, but
        # never the token.
        return re.sub("^" + re.escape(prefix) + r"[^/?#]+", prefix + "[redacted]", path), None
    return None


def upgrade():
    op.create_table('rate_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_counter_window_start'), ['window_start'], unique=False)

    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sync_conflict_link_id'), ['link_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sync_conflict_link_id_access_link'), 'access_link', ['link_id'], ['id'])

    connection = op.get_bind()

    def find_link(token):
        return connection.execute(sa.text("SELECT id FROM access_link WHERE token_hash = :h"),
                                  {"h": hashlib.sha256(token.encode()).hexdigest()}).scalar()

    def find_work_order(token):
        return connection.execute(sa.text("SELECT id FROM work_order WHERE token = :t"), {"t": token}).scalar()

    for table in ("idempotency_record", "sync_conflict"):
        rows = connection.execute(sa.text(f"SELECT id, endpoint FROM {table} WHERE endpoint LIKE '/%'")).all()
        for row_id, path in rows:
            described = describe(path, find_link, find_work_order)
            if described is None:
                continue
            endpoint, link_id = described
            if table == "sync_conflict":
                connection.execute(sa.text("UPDATE sync_conflict SET endpoint = :e, link_id = :l WHERE id = :i"),
                                   {"e": endpoint[:300], "l": link_id, "i": row_id})
            else:
                connection.execute(sa.text("UPDATE idempotency_record SET endpoint = :e WHERE id = :i"),
                                   {"e": endpoint[:300], "i": row_id})
    for row_id, fields in connection.execute(sa.text("SELECT id, fields FROM sync_conflict")).all():
        if fields and redact_fields(fields) != fields:
            connection.execute(sa.text("UPDATE sync_conflict SET fields = :f WHERE id = :i"),
                               {"f": redact_fields(fields), "i": row_id})


# A link scanned or typed into a form (a conflict's fields): its token goes, wherever it stands.
TOKEN_IN_TEXT = re.compile(r"(/aftersales/c/|/c/|/w/|/b/)[^/?#&\s\"'\\]+")


def redact_fields(fields: str) -> str:
    """A conflict's stored fields (JSON text) without any link token in them."""
    return TOKEN_IN_TEXT.sub(lambda m: m.group(1) + "[redacted]", fields)


def downgrade():
    # The tokens are not brought back (they were never meant to be stored).
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sync_conflict_link_id_access_link'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sync_conflict_link_id'))
        batch_op.drop_column('link_id')

    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_counter_window_start'))

    op.drop_table('rate_counter')
