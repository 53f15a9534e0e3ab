"""appointment answers and reservation balance invoices

Revision ID: 0006_core
Revises: 0009_core
Create Date: 2026-11-30 23:57:54.783250
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_core"
down_revision = "0009_core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_preferences", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("proposed_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("proposed_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointment_request_status"), ["status"], unique=False)

    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reservation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_invoice_reservation_id"), ["reservation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_reservation_id_reservation"),
            "reservation",
            ["reservation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_reservation_id_reservation"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_invoice_reservation_id"))
        batch_op.drop_column("reservation_id")

    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_request_status"))
        batch_op.drop_column("decided_at")
        batch_op.drop_column("reply")
        batch_op.drop_column("proposed_end")
        batch_op.drop_column("proposed_start")
        batch_op.drop_column("other_preferences")
