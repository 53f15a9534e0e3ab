"""the console's first month: tax rates and saved items, discounts and deposits, payments recorded by hand,
refunds on the invoice, copyable pay links, processor health, one editable template body

Revision ID: 0010_core
Revises: 0006_core
Create Date: 2027-02-01 00:00:00

Tax rates become basis points to a tenth (887.5 = 8.875 %); existing rates keep their value. Invoices keep
rounding tax per line, as they were worked out; new ones follow the business's rule (per invoice by default).
A business's own template keeps its text as its one body; its separate HTML goes (the HTML part is now made
from the body).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_core"
down_revision = "0006_core"
branch_labels = None
depends_on = None

RATE = sa.Numeric(precision=7, scale=1)


def upgrade():
    op.create_table(
        "tax_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate_bp", RATE, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"],
                                name=op.f("fk_tax_rate_business_id_business"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rate")),
        sa.UniqueConstraint("business_id", "name", name=op.f("uq_tax_rate_business_id_name")),
    )
    with op.batch_alter_table("tax_rate") as batch_op:
        batch_op.create_index(batch_op.f("ix_tax_rate_business_id"), ["business_id"], unique=False)
    op.create_table(
        "saved_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("unit_cost", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"],
                                name=op.f("fk_saved_item_business_id_business"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tax_rate_id"], ["tax_rate.id"],
                                name=op.f("fk_saved_item_tax_rate_id_tax_rate"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_item")),
        sa.UniqueConstraint("business_id", "name", name=op.f("uq_saved_item_business_id_name")),
    )
    with op.batch_alter_table("saved_item") as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_item_business_id"), ["business_id"], unique=False)
    op.create_table(
        "processor_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("processor", sa.String(length=32), nullable=False),
        sa.Column("last_webhook_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"],
                                name=op.f("fk_processor_health_business_id_business"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_health")),
        sa.UniqueConstraint("business_id", "processor",
                            name=op.f("uq_processor_health_business_id_processor")),
    )
    with op.batch_alter_table("processor_health") as batch_op:
        batch_op.create_index(batch_op.f("ix_processor_health_business_id"), ["business_id"], unique=False)

    with op.batch_alter_table("business") as batch_op:
        batch_op.add_column(sa.Column("logo_hash", sa.String(length=16), nullable=True))
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.add_column(sa.Column("discount", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("discount_rate_bp", RATE, nullable=True))
        batch_op.add_column(sa.Column("deposit", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("deposit_rate_bp", RATE, nullable=True))
        batch_op.add_column(sa.Column("tax_rounding", sa.String(length=8), nullable=False,
                                      server_default="line"))
        batch_op.add_column(sa.Column("amount_refunded", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE invoice SET amount_refunded = COALESCE((SELECT SUM(refund.amount) FROM refund "
               "JOIN payment ON payment.id = refund.payment_id WHERE payment.invoice_id = invoice.id "
               "AND payment.status = 'succeeded' AND refund.status = 'succeeded'), 0)")
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.alter_column("tax_rounding", server_default="invoice")
    with op.batch_alter_table("invoice_line") as batch_op:
        batch_op.add_column(sa.Column("discount", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("discount_rate_bp", RATE, nullable=True))
        batch_op.add_column(sa.Column("tax_rate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tax_name", sa.String(length=100), nullable=True))
        batch_op.alter_column("tax_rate_bp", existing_type=sa.Integer(), type_=RATE, existing_nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_invoice_line_tax_rate_id_tax_rate"), "tax_rate",
                                    ["tax_rate_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("payment") as batch_op:
        batch_op.add_column(sa.Column("card_brand", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_last4", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("pay_link") as batch_op:
        batch_op.add_column(sa.Column("token_sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("invoice_view") as batch_op:
        batch_op.add_column(sa.Column("payment_offered", sa.Boolean(), nullable=True))
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.drop_column("body_html")
        batch_op.drop_column("body_html_after")


def downgrade():
    with op.batch_alter_table("notification_template") as batch_op:
        batch_op.add_column(sa.Column("body_html_after", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
    with op.batch_alter_table("invoice_view") as batch_op:
        batch_op.drop_column("payment_offered")
    with op.batch_alter_table("pay_link") as batch_op:
        batch_op.drop_column("token_sealed")
    with op.batch_alter_table("payment") as batch_op:
        for column in ("note", "reference", "method", "card_last4", "card_brand"):
            batch_op.drop_column(column)
    with op.batch_alter_table("invoice_line") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invoice_line_tax_rate_id_tax_rate"), type_="foreignkey")
        batch_op.alter_column("tax_rate_bp", existing_type=RATE, type_=sa.Integer(), existing_nullable=False)
        for column in ("tax_name", "tax_rate_id", "discount_rate_bp", "discount"):
            batch_op.drop_column(column)
    with op.batch_alter_table("invoice") as batch_op:
        for column in ("amount_refunded", "tax_rounding", "deposit_rate_bp", "deposit", "discount_rate_bp",
                       "discount"):
            batch_op.drop_column(column)
    with op.batch_alter_table("business") as batch_op:
        batch_op.drop_column("logo_hash")
    for table in ("processor_health", "saved_item", "tax_rate"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_business_id"))
        op.drop_table(table)
