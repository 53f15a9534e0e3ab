"""one live checkout per invoice, processor tasks; outbox variables sealed; wording below access links

Revision ID: 0003_core
Revises: 0005_core
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_core"
down_revision = "0005_core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment") as batch_op:
        batch_op.add_column(sa.Column("checkout_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("checkout_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "processor_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"],
                                name=op.f("fk_processor_task_business_id_business"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"],
                                name=op.f("fk_processor_task_payment_id_payment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_task")),
        sa.UniqueConstraint("payment_id", "action", name=op.f("uq_processor_task_payment_id_action")),
    )
    with op.batch_alter_table("processor_task") as batch_op:
        for column in ("business_id", "next_attempt_at", "payment_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_processor_task_{column}"), [column], unique=False)
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.add_column(sa.Column("body_text_after", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html_after", sa.Text(), nullable=True))
    # Rows queued before this revision keep their plain JSON text, which is still read; new ones are sealed.
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.alter_column("context", existing_type=sa.JSON(), type_=sa.Text(),
                              postgresql_using="context::text")


def downgrade():
    op.drop_table("processor_task")
    with op.batch_alter_table("payment") as batch_op:
        batch_op.drop_column("checkout_expires_at")
        batch_op.drop_column("checkout_url")
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.drop_column("body_html_after")
        batch_op.drop_column("body_text_after")
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.alter_column("context", existing_type=sa.Text(), type_=sa.JSON(),
                              postgresql_using="'{}'::json")
