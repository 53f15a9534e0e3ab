"""outbox variables sealed at rest; business wording below an account-access link

Revision ID: 0003_core
Revises: 0002_core
Create Date: 2026-12-08 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_core"
down_revision = "0002_core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.add_column(sa.Column("body_text_after", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html_after", sa.Text(), nullable=True))
    # Rows queued before this revision keep their plain JSON text, which is still read; new ones are sealed.
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.alter_column("context", existing_type=sa.JSON(), type_=sa.Text(),
                              postgresql_using="context::text")


def downgrade():
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.drop_column("body_html_after")
        batch_op.drop_column("body_text_after")
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.alter_column("context", existing_type=sa.Text(), type_=sa.JSON(),
                              postgresql_using="'{}'::json")
