"""Full-text search of published articles, in the database's own engine: FTS5 on SQLite, ``tsvector`` with
``websearch_to_tsquery`` on PostgreSQL.

SQLite keeps an FTS5 table (``help_article_fts``) whose content is the article table itself, kept in step by
triggers, so rows written any way (the console, the demo's seed, a bulk insert) are found. PostgreSQL keeps
the weighted ``tsvector`` in a generated column (``search_vector``) with a GIN index, so neither matching
nor ranking parses an article again. Either way one statement, limited to the current business by core's
tenancy rule, returns the best matches. Neither is in the model: they are the table's declared companions.

A table rebuilt by a future SQLite migration (``batch_alter_table``) loses its triggers: such a revision
must create them again.
"""

from __future__ import annotations

import re

from sqlalchemy import DDL, column, event, func, literal_column, select, table, text

from core.plugin_api import db
from plugins.helpdesk.models import HelpArticle

RESULTS = 20
MAX_WORDS = 12
FTS_TABLE = "help_article_fts"
# The title weighs more than the body.
PG_DOCUMENT = ("setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
               "setweight(to_tsvector('english', coalesce(body_text, '')), 'B')")

SQLITE_DDL = (
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
PG_DDL = (
    f"ALTER TABLE help_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX ix_help_article_search ON help_article USING gin (search_vector)",
)

# Schemas built from the models (tests, a fresh development database) get the index too.
for statement in SQLITE_DDL:
    event.listen(HelpArticle.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
for statement in SQLITE_DROP:
    event.listen(HelpArticle.__table__, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
for statement in PG_DDL:
    event.listen(HelpArticle.__table__, "after_create", DDL(statement).execute_if(dialect="postgresql"))

_fts = table(FTS_TABLE, column("rowid"))


def words_of(query: str) -> list[str]:
    """The words of a visitor's query (letters and digits), at most :data:`MAX_WORDS`."""
    return re.findall(r"\w+", query.lower())[:MAX_WORDS]


def search_articles(query: str, *, limit: int = RESULTS) -> list[HelpArticle]:
    """Published articles of the current business matching every word of ``query``, best first."""
    words = words_of(query)
    if not words:
        return []
    published = HelpArticle.status == "published"
    if db.session.get_bind().dialect.name == "postgresql":
        vector = literal_column("help_article.search_vector")
        wanted = func.websearch_to_tsquery(literal_column("'english'"), " ".join(words))
        stmt = (select(HelpArticle).where(published, vector.op("@@")(wanted))
                .order_by(func.ts_rank(vector, wanted).desc(), HelpArticle.id))
    else:
        # Each word quoted, so nothing a visitor types is read as FTS5 syntax; the last may be unfinished.
        match = " ".join(f'"{word}"' for word in words) + "*"
        fts = literal_column(FTS_TABLE)
        stmt = (select(HelpArticle).join(_fts, _fts.c.rowid == HelpArticle.id)
                .where(published, fts.op("MATCH")(match))
                .order_by(text(f"bm25({FTS_TABLE}, 10.0, 1.0)"), HelpArticle.id))
    return list(db.session.scalars(stmt.limit(limit)))
