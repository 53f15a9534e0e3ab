"""business locale: money and dates are shown by CLDR in the business's locale

Revision ID: 0002_core
Revises: 0001_core
Create Date: 2026-12-01 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_core"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=False, server_default="en_US"))


def downgrade():
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_column("locale")
