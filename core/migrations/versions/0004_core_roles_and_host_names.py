"""staff roles and host names: existing staff become owners; a business's host names get a table of their own

Revision ID: 0004_core
Revises: 0003_core
Create Date: 2027-01-10 00:00:00

Before roles, every staff member could do everything; each becomes an owner, so nobody loses access, and an
owner narrows the others' roles on the Staff page. The one ``business.host`` column becomes rows of
``business_host`` (several names a business, the first primary); ``business.public_url`` goes: links are
built on the primary host name.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_core"
down_revision = "0003_core"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE staff_user SET role = 'owner'")
    op.create_table(
        "business_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"],
                                name=op.f("fk_business_host_business_id_business"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_host")),
        sa.UniqueConstraint("name", name=op.f("uq_business_host_name")),
    )
    with op.batch_alter_table("business_host") as batch_op:
        batch_op.create_index(batch_op.f("ix_business_host_business_id"), ["business_id"], unique=False)
    op.execute("INSERT INTO business_host (business_id, name, position) "
               "SELECT id, lower(host), 0 FROM business WHERE host IS NOT NULL")
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_constraint("uq_business_host", type_="unique")
        batch_op.drop_column("host")
        batch_op.drop_column("public_url")


def downgrade():
    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("public_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_business_host", ["host"])
    op.execute("UPDATE business SET host = (SELECT name FROM business_host "
               "WHERE business_host.business_id = business.id AND position = 0)")
    with op.batch_alter_table("business_host") as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_host_business_id"))
    op.drop_table("business_host")
