"""Packing by counted scans: cartons, counted scans with lots, overrides, shipment documents; the firm's address and phone (issue 13)

Revision ID: 9f7604fbdbb7
Revises: b13c0de5a1e5
Create Date: 2026-11-29 14:26:48.696149

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '9f7604fbdbb7'
down_revision = 'b13c0de5a1e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('packing_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('mismatch_json', sa.Text(), nullable=False),
    sa.Column('at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_packing_override_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_packing_override_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packing_override')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_packing_override_shipment_id'))
    )
    op.create_table('shipment_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('customer_visible', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_document_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_shipment_document_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_document'))
    )
    with op.batch_alter_table('shipment_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_document_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('carton',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('quantity', webapp.db_types.Quantity(), nullable=False),
    sa.Column('weight_kg', webapp.db_types.Quantity(), nullable=True),
    sa.Column('length_cm', webapp.db_types.Quantity(), nullable=True),
    sa.Column('width_cm', webapp.db_types.Quantity(), nullable=True),
    sa.Column('height_cm', webapp.db_types.Quantity(), nullable=True),
    sa.Column('contents', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('packed_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.Column('packed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_carton_created_by_id_user')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_carton_lot_id_lot')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_carton_order_id_order')),
    sa.ForeignKeyConstraint(['packed_by_id'], ['user.id'], name=op.f('fk_carton_packed_by_id_user')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_carton_product_id_product')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_carton_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carton')),
    sa.UniqueConstraint('token', name=op.f('uq_carton_token'))
    )
    with op.batch_alter_table('carton', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carton_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_carton_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carton_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('pack_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('shipment_line_id', sa.Integer(), nullable=False),
    sa.Column('carton_id', sa.Integer(), nullable=True),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('quantity', webapp.db_types.Quantity(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['carton_id'], ['carton.id'], name=op.f('fk_pack_scan_carton_id_carton')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_pack_scan_lot_id_lot')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_pack_scan_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['shipment_line_id'], ['shipment_line.id'], name=op.f('fk_pack_scan_shipment_line_id_shipment_line')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_pack_scan_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_scan')),
    sa.UniqueConstraint('carton_id', name=op.f('uq_pack_scan_carton_id'))
    )
    with op.batch_alter_table('pack_scan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_scan_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pack_scan_shipment_line_id'), ['shipment_line_id'], unique=False)

    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('firm_address', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('firm_phone', sa.String(length=50), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.drop_column('firm_phone')
        batch_op.drop_column('firm_address')

    with op.batch_alter_table('pack_scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_scan_shipment_line_id'))
        batch_op.drop_index(batch_op.f('ix_pack_scan_shipment_id'))

    op.drop_table('pack_scan')
    with op.batch_alter_table('carton', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carton_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_carton_order_id'))
        batch_op.drop_index(batch_op.f('ix_carton_number'))

    op.drop_table('carton')
    with op.batch_alter_table('shipment_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_document_shipment_id'))

    op.drop_table('shipment_document')
    op.drop_table('packing_override')
