"""Host names: what is valid, one business per name, several per business with a primary for links, set by
`suprata create-business --host` and by owners in the console, and reported by `suprata doctor`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db as _db
from core.models import Business, BusinessHost
from core.tenancy.hosts import HostError, normalise_host, parse_hosts
from core.tenancy.urls import public_url_for
from core.testing.helpers import create_staff, csrf_token_from, login_staff

ADDRESSES = "/b/acme/console/settings/addresses"
PASSWORD = "correct horse battery"


@pytest.mark.parametrize("text, name", [
    ("pay.acme.test", "pay.acme.test"),
    ("  Pay.ACME.test. ", "pay.acme.test"),
    ("café.example", "xn--caf-dma.example"),
    ("a-b.c-d.example", "a-b.c-d.example"),
])
def test_host_names_are_normalised(text, name):
    assert normalise_host(text) == name


@pytest.mark.parametrize("text, why", [
    ("https://pay.acme.test", "without http://"),
    ("pay.acme.test:8443", "without http://, a path or a port"),
    ("pay.acme.test/console", "a path"),
    ("localhost", "two or more parts"),
    ("10.0.0.1", "is not a host name"),
    ("-bad.acme.test", "is not a host name"),
    ("under_score.acme.test", "is not a host name"),
    ("x" * 64 + ".test", "is not a valid host name"),
])
def test_what_is_not_a_host_name_is_refused_with_why(text, why):
    with pytest.raises(HostError, match=why):
        normalise_host(text)


def test_the_installation_s_own_address_is_not_a_business_s(app):
    with app.app_context(), pytest.raises(HostError, match="installation's own address"):
        parse_hosts(["suprata.test"])  # SUPRATA_PUBLIC_URL of the tests


def test_several_host_names_serve_one_business_and_links_use_the_first(app, client, make_business,
                                                                       in_business):
    acme = make_business("acme", name="Acme Plumbing", hosts=["pay.acme.test", "acme.test"])
    for host in ("pay.acme.test", "ACME.test"):
        assert "Acme Plumbing" in client.get("/", headers={"Host": host}).get_data(as_text=True)
    with app.test_request_context("/", headers={"Host": "acme.test"}), in_business(acme):
        assert public_url_for("console.login") == "http://pay.acme.test/console/login"


def test_a_host_name_belongs_to_one_business(app, make_business):
    make_business("acme", hosts=["pay.acme.test"])
    with pytest.raises(HostError, match="Another business already uses pay.acme.test"):
        make_business("bolt", hosts=["www.bolt.test", "pay.acme.test"])
    with app.app_context():
        assert _db.session.scalar(select(Business.id).where(Business.slug == "bolt")) is None


# -- the command line ----------------------------------------------------------------------------------------


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["suprata", *args])


def test_create_business_takes_host_names(app, db):
    result = invoke(app, "create-business", "acme", "--name", "Acme Plumbing", "--host", "Pay.Acme.test",
                    "--host", "acme.test")
    assert result.exit_code == 0, result.output
    assert "at http://pay.acme.test/" in result.output
    assert "the first staff member is the business's owner" in result.output
    with app.app_context():
        names = _db.session.scalars(select(BusinessHost.name).order_by(BusinessHost.position)).all()
    assert names == ["pay.acme.test", "acme.test"]


def test_create_business_refuses_a_bad_or_taken_host_name(app, db, make_business):
    make_business("bolt", hosts=["pay.bolt.test"])
    bad = invoke(app, "create-business", "acme", "--name", "Acme", "--host", "https://pay.acme.test")
    taken = invoke(app, "create-business", "acme", "--name", "Acme", "--host", "pay.bolt.test")
    assert bad.exit_code != 0 and "without http://" in bad.output
    assert taken.exit_code != 0 and "Another business already uses pay.bolt.test" in taken.output
    with app.app_context():
        assert _db.session.scalar(select(Business.id).where(Business.slug == "acme")) is None


# -- the console ---------------------------------------------------------------------------------------


@pytest.fixture
def owner(app, client, make_business):
    acme = make_business("acme", name="Acme Plumbing")
    create_staff(app, acme, password=PASSWORD)
    assert login_staff(client, acme, password=PASSWORD).status_code == 302
    return client


def _save(client, text: str):
    token = csrf_token_from(client.get(ADDRESSES).get_data(as_text=True))
    return client.post(ADDRESSES, data={"csrf_token": token, "hosts": text})


def test_an_owner_sets_the_host_names_and_links_follow(app, owner, make_business):
    make_business("bolt", hosts=["pay.bolt.test"])
    assert _save(owner, "pay.acme.test\nacme.test\n").status_code == 302
    assert "Links now start with http://pay.acme.test/" in owner.get(ADDRESSES).get_data(as_text=True)
    assert "Acme Plumbing" in app.test_client().get("/", headers={"Host": "acme.test"}).get_data(as_text=True)

    refused = _save(owner, "acme.test\npay.bolt.test")
    assert refused.status_code == 400
    assert "Another business already uses pay.bolt.test" in refused.get_data(as_text=True)
    invalid = _save(owner, "http://acme.test/")
    assert invalid.status_code == 400 and "without http://" in invalid.get_data(as_text=True)
    with app.app_context():
        assert _db.session.scalars(select(BusinessHost.name).order_by(BusinessHost.name)).all() == [
            "acme.test", "pay.acme.test", "pay.bolt.test"]


def test_removing_a_host_name_stops_serving_it(app, owner):
    _save(owner, "pay.acme.test\nold.acme.test")
    assert app.test_client().get("/console/login", headers={"Host": "old.acme.test"}).status_code == 200
    _save(owner, "pay.acme.test")
    assert app.test_client().get("/console/login", headers={"Host": "old.acme.test"}).status_code == 404


def test_only_owners_set_host_names(app, owner):
    with app.app_context():
        acme = _db.session.scalar(select(Business).where(Business.slug == "acme"))
        _db.session.expunge(acme)
    create_staff(app, acme, email="ada@acme.test", password=PASSWORD, name="Ada", role="admin")
    admin = app.test_client()
    login_staff(admin, acme, email="ada@acme.test", password=PASSWORD)
    assert admin.get(ADDRESSES).status_code == 403
    assert "Web addresses" not in admin.get("/b/acme/console/settings").get_data(as_text=True)
    assert "Web addresses" in owner.get("/b/acme/console/settings").get_data(as_text=True)
