"""The knowledge base: categories and articles written in Markdown, rendered once to sanitized HTML, voted
helpful or not once per visitor, and read by customers (which their timeline records)."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import timedelta

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.plugin_api import db, record_activity, utcnow
from plugins.helpdesk.models import ArticleRead, ArticleVote, HelpArticle, HelpCategory

# Raw HTML in the Markdown is shown as text; nh3 then keeps only what the theme styles.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
ALLOWED_TAGS = {"a", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "hr", "img", "li", "ol", "p",
                "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
                      "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
# A customer's rereads within a day are one entry on their timeline.
READ_INTERVAL = timedelta(days=1)


def render_markdown(source: str) -> str:
    """``source`` Markdown as HTML safe to put in a page: no script, style, event handler or odd URL."""
    # Headings start at h2: the article's title is the page's h1.
    rendered = _markdown.render(re.sub(r"^(#{1,5}) ", r"#\1 ", source, flags=re.MULTILINE))
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def plain_text(safe_html: str) -> str:
    """The words of rendered HTML, for the search index and excerpts."""
    text = html.unescape(nh3.clean(safe_html, tags=set()))
    return re.sub(r"\s+", " ", text).strip()


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:100] or "article"


def _free_slug(model, wanted: str, own_id: int | None) -> str:
    with db.session.no_autoflush:  # the record being saved has no address yet
        taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{wanted}%"),
                                                                model.id != (own_id or 0))))
    slug, n = wanted, 2
    while slug in taken:
        slug, n = f"{wanted}-{n}", n + 1
    return slug


def save_category(category: HelpCategory | None, *, name: str, description: str | None,
                  position: int) -> HelpCategory:
    """Create (``category`` None) or change a category; its address follows its name. Caller commits."""
    if category is None:
        category = HelpCategory()
        db.session.add(category)
    category.name, category.description, category.position = name.strip(), description or None, position
    category.slug = _free_slug(HelpCategory, slugify(name), category.id)
    db.session.flush()
    return category


def save_article(article: HelpArticle | None, *, title: str, body_markdown: str, category_id: int | None,
                 status: str) -> HelpArticle:
    """Create (``article`` None) or change an article: render and sanitize its body once, here, and keep
    the text search indexes. Its address is fixed when first published. Caller commits."""
    if article is None:
        article = HelpArticle(helpful_yes=0, helpful_no=0)
        db.session.add(article)
    article.title, article.body_markdown = title.strip(), body_markdown
    article.category_id = category_id or None
    article.body_html = render_markdown(body_markdown)
    article.body_text = plain_text(article.body_html)
    article.updated_at = utcnow()
    if status == "published" and article.published_at is None:
        article.published_at = utcnow()
    if article.published_at is None or not article.slug:
        article.slug = _free_slug(HelpArticle, slugify(title), article.id)
    article.status = status
    db.session.flush()
    return article


def voter_key(customer_id: int | None, visitor_id: str) -> str:
    """Who voted, as a hash: the customer when signed in (any device), else the visitor's browser."""
    who = f"customer:{customer_id}" if customer_id else f"visitor:{visitor_id}"
    return hashlib.sha256(who.encode()).hexdigest()


def vote(article: HelpArticle, *, helpful: bool, voter: str) -> bool:
    """Count one "Was this helpful?" answer; False (nothing counted) when this voter already answered.

    The unique key decides, so two answers racing from one visitor count once. Commits.
    """
    try:
        with db.session.begin_nested():
            db.session.add(ArticleVote(article_id=article.id, voter=voter, helpful=helpful))
    except IntegrityError:
        db.session.rollback()
        return False
    counter = HelpArticle.helpful_yes if helpful else HelpArticle.helpful_no
    db.session.execute(update(HelpArticle).where(HelpArticle.id == article.id)
                       .values({counter: counter + 1}).execution_options(synchronize_session=False))
    db.session.commit()
    return True


def record_read(article: HelpArticle, customer_id: int) -> None:
    """A signed-in customer read ``article``: on their timeline, once a day at most. Caller commits."""
    now = utcnow()
    read = db.session.scalar(select(ArticleRead).where(ArticleRead.customer_id == customer_id,
                                                       ArticleRead.article_id == article.id))
    if read is not None and now - read.at < READ_INTERVAL:
        return
    if read is None:
        db.session.add(ArticleRead(customer_id=customer_id, article_id=article.id, at=now))
    else:
        read.at = now
    record_activity(customer_id, surface="help", kind="article.read", summary=f"Read “{article.title}”",
                    article_id=article.id)
