"""production: invoice counter per business, invoice revisions, an index for the latest view, claims of
periodic runs

Revision ID: 0007_core
Revises: 0008_core
Create Date: 2026-12-01 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_core"
down_revision = "0008_core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("last_invoice_number", sa.Integer(), nullable=False,
                                      server_default="0"))
    # Numbering carries on from the invoices each business has already.
    op.execute("UPDATE business SET last_invoice_number = "
               "(SELECT count(*) FROM invoice WHERE invoice.business_id = business.id)")

    with op.batch_alter_table("invoice") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("invoice_view") as batch_op:
        batch_op.drop_index("ix_invoice_view_invoice_id")
        batch_op.create_index("ix_invoice_view_latest", ["invoice_id", "business_id", "viewed_at"],
                              unique=False)

    op.create_table(
        "periodic_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=160), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periodic_run")),
        sa.UniqueConstraint("task_name", "due_at", name=op.f("uq_periodic_run_task_name_due_at")),
    )
    with op.batch_alter_table("periodic_run") as batch_op:
        batch_op.create_index(batch_op.f("ix_periodic_run_due_at"), ["due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("periodic_run") as batch_op:
        batch_op.drop_index(batch_op.f("ix_periodic_run_due_at"))
    op.drop_table("periodic_run")
    with op.batch_alter_table("invoice_view") as batch_op:
        batch_op.drop_index("ix_invoice_view_latest")
        batch_op.create_index("ix_invoice_view_invoice_id", ["invoice_id"], unique=False)
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_column("last_invoice_number")
