"""The knowledge base: Markdown rendered to sanitized HTML, drafts kept off the site and out of search,
full-text search on the suite's database (SQLite's FTS5 or PostgreSQL's tsvector), "Was this helpful?"
counted once per visitor, and reads by a signed-in customer on their timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import ActivityEvent
from core.testing.helpers import csrf_token_from
from plugins.helpdesk.articles import render_markdown
from plugins.helpdesk.models import HelpArticle
from plugins.helpdesk.search import search_articles
from tests.helpdesk.conftest import post_form, publish


def test_markdown_becomes_html_without_anything_that_runs():
    html = render_markdown(
        "# Title\n\n**bold** [ok](https://example.com) [bad](javascript:alert(1))\n\n"
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h2>Title</h2>" in html and "<strong>bold</strong>" in html and "<table>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert 'href="javascript' not in html
    assert "<script" not in html and "<img" not in html  # raw HTML is shown as text, escaped
    assert "&lt;script&gt;" in html


def test_a_published_article_is_on_the_site_and_a_draft_is_not(client, acme, in_business):
    publish(in_business, acme, "Resetting your thermostat", "Hold the **mode** button.", category="Heating")
    publish(in_business, acme, "Secret draft", "Not yet.", status="draft")
    home = client.get("/b/acme/help/").get_data(as_text=True)
    assert "Resetting your thermostat" in home and "Heating" in home and "Secret draft" not in home
    page = client.get("/b/acme/help/articles/resetting-your-thermostat")
    assert page.status_code == 200 and "<strong>mode</strong>" in page.get_data(as_text=True)
    assert client.get("/b/acme/help/articles/secret-draft").status_code == 404
    assert client.get("/b/acme/help/categories/heating").status_code == 200


@pytest.mark.parametrize(("query", "expected"), [
    ("thermostat", ["Resetting your thermostat"]),
    ("THERMOSTAT reset", ["Resetting your thermostat"]),
    ("pilot", ["Lighting the pilot light"]),  # in the body only
    ("water heater", ["Draining a water heater"]),
    ("lights", ["Lighting the pilot light"]),  # stemmed
    ('"; DROP TABLE help_article; --', []),  # nothing a visitor types is read as query syntax
    ("OR AND NOT * ( )", []),
    ("draft", []),  # drafts are not searched
])
def test_search_finds_published_articles_by_their_words(acme, in_business, query, expected):
    publish(in_business, acme, "Resetting your thermostat", "Hold the mode button for five seconds.")
    publish(in_business, acme, "Lighting the pilot light", "Turn the knob to pilot and press it.")
    publish(in_business, acme, "Draining a water heater", "Attach a hose to the drain valve.")
    publish(in_business, acme, "A draft about thermostats", "draft words", status="draft")
    with in_business(acme):
        assert [a.title for a in search_articles(query)] == expected


def test_search_ranks_title_matches_first_and_stays_in_its_business(acme, globex, in_business, client):
    publish(in_business, acme, "Boiler pressure", "Check the gauge.")
    publish(in_business, acme, "Radiators", "Bleed them when the boiler pressure drops, boiler boiler.")
    publish(in_business, globex, "Globex boiler guide", "boiler")
    with in_business(acme):
        assert [a.title for a in search_articles("boiler")] == ["Boiler pressure", "Radiators"]
    page = client.get("/b/acme/help/search?q=boiler").get_data(as_text=True)
    assert "Boiler pressure" in page and "Globex" not in page


def test_search_follows_edits_and_deletions(acme, in_business):
    article_id = publish(in_business, acme, "Gutter cleaning", "Leaves block the downpipe.")
    with in_business(acme):
        article = db.session.get(HelpArticle, article_id)
        article.title, article.body_text = "Roof drains", "Moss in the drain."
        db.session.commit()
        assert search_articles("gutter") == [] and [a.id for a in search_articles("moss")] == [article_id]
        db.session.delete(article)
        db.session.commit()
        assert search_articles("moss") == []


def test_helpful_is_counted_once_per_visitor(app, client, acme, in_business):
    article_id = publish(in_business, acme, "Bleeding radiators", "Use the key.")
    url = "/b/acme/help/articles/bleeding-radiators"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    for answer in ("yes", "yes", "no"):  # a double click, then a change of mind: the first answer counts
        response = client.post(f"{url}/vote", data={"csrf_token": token, "helpful": answer})
        assert response.status_code == 302
    other_visitor = app.test_client()
    post_form(other_visitor, url, {"helpful": "no"}, post_url=f"{url}/vote")
    with in_business(acme):
        article = db.session.get(HelpArticle, article_id)
        assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert "Thank you for telling us" in client.get(url).get_data(as_text=True)


def test_a_vote_needs_its_csrf_token(client, acme, in_business):
    publish(in_business, acme, "Bleeding radiators", "Use the key.")
    client.post("/b/acme/help/articles/bleeding-radiators/vote", data={"helpful": "yes"})
    with in_business(acme):
        assert db.session.scalar(select(HelpArticle.helpful_yes)) == 0


def test_a_signed_in_customer_reading_goes_on_their_timeline_once_a_day(as_maria, acme, maria, in_business):
    publish(in_business, acme, "Bleeding radiators", "Use the key.")
    for _ in range(3):
        page = as_maria.get("/b/acme/help/articles/bleeding-radiators")
        assert "Maria Garcia" in page.get_data(as_text=True)  # the name in the corner
    with in_business(acme):
        events = db.session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "article.read")).all()
        assert [(e.customer_id, e.surface, e.summary) for e in events] == [
            (maria, "help", "Read “Bleeding radiators”")]
    activity = as_maria.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Read “Bleeding radiators”" in activity


def test_a_visitor_reading_records_nothing(client, acme, in_business):
    publish(in_business, acme, "Bleeding radiators", "Use the key.")
    assert client.get("/b/acme/help/articles/bleeding-radiators").status_code == 200
    with in_business(acme):
        assert db.session.scalars(select(ActivityEvent)).all() == []
