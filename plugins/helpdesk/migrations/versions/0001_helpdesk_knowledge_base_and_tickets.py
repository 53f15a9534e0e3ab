"""help desk: knowledge base and tickets

The articles' full-text index is written out here as it stood at this revision (FTS5 with its triggers on
SQLite, a generated tsvector column with a GIN index on PostgreSQL); plugins.helpdesk.search holds the same
for schemas built from the models.

Revision ID: 0001_helpdesk
Revises:
Create Date: 2026-12-01 02:54:45.342100
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001_helpdesk"
down_revision = None
branch_labels = ("helpdesk",)
depends_on = "0001_core"

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE help_article_fts USING fts5(title, body_text, content='help_article', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER help_article_fts_insert AFTER INSERT ON help_article BEGIN "
    "INSERT INTO help_article_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END",
    "CREATE TRIGGER help_article_fts_delete AFTER DELETE ON help_article BEGIN "
    "INSERT INTO help_article_fts(help_article_fts, rowid, title, body_text) "
    "VALUES ('delete', old.id, old.title, old.body_text); END",
    "CREATE TRIGGER help_article_fts_update AFTER UPDATE OF title, body_text ON help_article BEGIN "
    "INSERT INTO help_article_fts(help_article_fts, rowid, title, body_text) "
    "VALUES ('delete', old.id, old.title, old.body_text); "
    "INSERT INTO help_article_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS help_article_fts_update",
    "DROP TRIGGER IF EXISTS help_article_fts_delete",
    "DROP TRIGGER IF EXISTS help_article_fts_insert",
    "DROP TABLE IF EXISTS help_article_fts",
)
POSTGRESQL_INDEX = (
    "ALTER TABLE help_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body_text, '')), 'B')) STORED",
    "CREATE INDEX ix_help_article_search ON help_article USING gin (search_vector)",
)


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade():
    op.create_table(
        "help_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=140), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_category_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_category")),
        sa.UniqueConstraint("business_id", "slug", name=op.f("uq_help_category_business_id_slug")),
    )
    with op.batch_alter_table("help_category", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_category_business_id"), ["business_id"], unique=False)

    op.create_table(
        "help_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=220), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful_yes", sa.Integer(), nullable=False),
        sa.Column("helpful_no", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_article_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["help_category.id"],
            name=op.f("fk_help_article_category_id_help_category"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_article")),
        sa.UniqueConstraint("business_id", "slug", name=op.f("uq_help_article_business_id_slug")),
        info={"companions": ("help_article_fts", "ix_help_article_search")},
    )
    with op.batch_alter_table("help_article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_article_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_article_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_article_status"), ["status"], unique=False)

    op.create_table(
        "help_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff_user.id"],
            name=op.f("fk_help_ticket_assignee_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_ticket_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_help_ticket_customer_id_customer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_ticket")),
    )
    with op.batch_alter_table("help_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_ticket_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_ticket_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_ticket_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_help_ticket_last_activity_at"), ["last_activity_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_help_ticket_status"), ["status"], unique=False)

    op.create_table(
        "help_article_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["help_article.id"],
            name=op.f("fk_help_article_read_article_id_help_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_article_read_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_help_article_read_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_article_read")),
        sa.UniqueConstraint(
            "customer_id", "article_id", name=op.f("uq_help_article_read_customer_id_article_id")
        ),
    )
    with op.batch_alter_table("help_article_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_article_read_business_id"), ["business_id"], unique=False)

    op.create_table(
        "help_article_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["help_article.id"],
            name=op.f("fk_help_article_vote_article_id_help_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_article_vote_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_article_vote")),
        sa.UniqueConstraint("article_id", "voter", name=op.f("uq_help_article_vote_article_id_voter")),
    )
    with op.batch_alter_table("help_article_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_article_vote_business_id"), ["business_id"], unique=False)

    op.create_table(
        "help_ticket_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_ticket_message_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_help_ticket_message_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["help_ticket.id"],
            name=op.f("fk_help_ticket_message_ticket_id_help_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_ticket_message")),
    )
    with op.batch_alter_table("help_ticket_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_ticket_message_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_help_ticket_message_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "help_ticket_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_help_ticket_attachment_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["help_ticket_message.id"],
            name=op.f("fk_help_ticket_attachment_message_id_help_ticket_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_ticket_attachment")),
    )
    with op.batch_alter_table("help_ticket_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_help_ticket_attachment_business_id"), ["business_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_help_ticket_attachment_message_id"), ["message_id"], unique=False
        )


    statements = {"sqlite": SQLITE_INDEX, "postgresql": POSTGRESQL_INDEX}.get(_dialect(), ())
    for statement in statements:
        op.execute(statement)

def downgrade():
    if _dialect() == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    elif _dialect() == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_help_article_search")
    with op.batch_alter_table("help_ticket_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_ticket_attachment_message_id"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_attachment_business_id"))

    op.drop_table("help_ticket_attachment")
    with op.batch_alter_table("help_ticket_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_ticket_message_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_message_business_id"))

    op.drop_table("help_ticket_message")
    with op.batch_alter_table("help_article_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_article_vote_business_id"))

    op.drop_table("help_article_vote")
    with op.batch_alter_table("help_article_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_article_read_business_id"))

    op.drop_table("help_article_read")
    with op.batch_alter_table("help_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_ticket_status"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_last_activity_at"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_expires_at"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_customer_id"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_business_id"))
        batch_op.drop_index(batch_op.f("ix_help_ticket_assignee_id"))

    op.drop_table("help_ticket")
    with op.batch_alter_table("help_article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_article_status"))
        batch_op.drop_index(batch_op.f("ix_help_article_category_id"))
        batch_op.drop_index(batch_op.f("ix_help_article_business_id"))

    op.drop_table("help_article")
    with op.batch_alter_table("help_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_category_business_id"))

    op.drop_table("help_category")
