"""After-sales to the end (issue 15): ticket types and solutions, a department's part with its clock, the
deadline to solve, escalation marks, confirmations and survey answers taken by phone.

Tickets opened before this have no deadline to solve (resolution_due_at NULL): nothing escalates them for it.

Revision ID: cced9b1a1bb5
Revises: 062e82bb8f2a
Create Date: 2026-11-29 21:32:21.253305

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'cced9b1a1bb5'
down_revision = '062e82bb8f2a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', webapp.db_types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_survey_entered_by_id_user'), 'user', ['entered_by_id'], ['id'])

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='other', nullable=False))
        batch_op.add_column(sa.Column('solution', sa.String(length=12), server_default='', nullable=False))
        batch_op.add_column(sa.Column('resolution_due_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('department_due_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('department_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirmed_by_phone', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('response_escalated_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_escalated_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('department_escalated_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_resolution_due_at'), ['resolution_due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ticket_resolved_by_id_user'), 'user', ['resolved_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_resolved_by_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ticket_resolution_due_at'))
        batch_op.drop_column('department_escalated_at')
        batch_op.drop_column('resolution_escalated_at')
        batch_op.drop_column('response_escalated_at')
        batch_op.drop_column('resolved_by_id')
        batch_op.drop_column('confirmed_by_phone')
        batch_op.drop_column('department_note')
        batch_op.drop_column('department_due_at')
        batch_op.drop_column('department')
        batch_op.drop_column('resolution_due_at')
        batch_op.drop_column('solution')
        batch_op.drop_column('kind')

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_survey_entered_by_id_user'), type_='foreignkey')
        batch_op.drop_column('entered_by_id')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

