"""The help site's tables: knowledge-base categories and articles (with their votes and reads), and tickets
with their messages and attachments.

Articles keep their Markdown and the sanitized HTML rendered from it (so a page never renders Markdown),
plus the plain text the full-text search indexes (:mod:`plugins.helpdesk.search`). Counters that pages
show (helpful votes) are kept columns, so a page never counts rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.plugin_api import TenantScoped, UTCDateTime, db, utcnow

ARTICLE_STATUSES = {"draft": "Draft", "published": "Published"}
# "unverified" tickets wait for their email link and are not in the queue; the rest are the queue's.
TICKET_STATUSES = {"open": "Open", "pending": "Waiting for the customer", "resolved": "Resolved",
                   "closed": "Closed"}
UNVERIFIED = "unverified"


class HelpCategory(TenantScoped, db.Model):
    __tablename__ = "help_category"
    __table_args__ = (UniqueConstraint("business_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140))
    description: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)


class HelpArticle(TenantScoped, db.Model):
    __tablename__ = "help_article"
    # The search index lives beside the table under these names, made by plugins.helpdesk.search's DDL.
    __table_args__ = (UniqueConstraint("business_id", "slug"),
                      {"info": {"companions": ("help_article_fts", "search_vector",
                                               "ix_help_article_search")}})

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("help_category.id", ondelete="SET NULL"),
                                                    index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # sanitized (nh3) when saved
    body_text: Mapped[str] = mapped_column(Text, default="")  # what search indexes
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[HelpCategory | None] = relationship()


class ArticleVote(TenantScoped, db.Model):
    """One visitor's answer to "Was this helpful?"; the unique key makes it once per visitor."""

    __tablename__ = "help_article_vote"
    __table_args__ = (UniqueConstraint("article_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("help_article.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(String(64))  # a hash: the customer, or the visitor's random id
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleRead(TenantScoped, db.Model):
    """When a signed-in customer last read an article, so their timeline gets one entry a day, not one per
    page load."""

    __tablename__ = "help_article_read"
    __table_args__ = (UniqueConstraint("customer_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("help_article.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(TenantScoped, db.Model):
    __tablename__ = "help_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"),
                                                    index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "public" (the form) or "signed_in"
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"),
                                                    index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the ticket entered the queue; an unverified one is purged after expires_at.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def status_label(self) -> str:
        return TICKET_STATUSES.get(self.status, "Waiting for email confirmation")


class TicketMessage(TenantScoped, db.Model):
    """One entry of a ticket's thread: the customer's or staff's reply, or a staff-only internal note."""

    __tablename__ = "help_ticket_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("help_ticket.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # "customer" or "staff"
    author_name: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    # Staff-only: never selected for a customer's page or email.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list[TicketAttachment]] = relationship(order_by="TicketAttachment.id")


class TicketAttachment(TenantScoped, db.Model):
    __tablename__ = "help_ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("help_ticket_message.id", ondelete="CASCADE"),
                                            index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))  # what the content is, not what the name says
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only to download
