"""portal applications: sign-ups with an address not on file, waiting for staff

Revision ID: 0001_portal
Revises:
Create Date: 2026-11-30 23:57:33.595121
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001_portal"
down_revision = None
branch_labels = ("portal",)
depends_on = "0001_core"


def upgrade():
    op.create_table(
        "portal_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_portal_application_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_portal_application_customer_id_customer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_application")),
    )
    with op.batch_alter_table("portal_application", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_application_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_application_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_application_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("portal_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_application_status"))
        batch_op.drop_index(batch_op.f("ix_portal_application_email"))
        batch_op.drop_index(batch_op.f("ix_portal_application_business_id"))

    op.drop_table("portal_application")
