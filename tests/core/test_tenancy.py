"""The one tenancy mechanism: every ORM read and write is scoped to the current business."""

import pytest
from sqlalchemy import select, update

from core.models import Customer, Invoice
from core.tenancy import TenancyError


@pytest.fixture
def two_businesses(make_business, in_business, db):
    acme, bolt = make_business("acme"), make_business("bolt")
    for b, names in ((acme, ["Ann", "Abe"]), (bolt, ["Bea"])):
        with in_business(b):
            db.session.add_all(Customer(name=n) for n in names)
            db.session.commit()
    return acme, bolt


def test_reads_see_only_the_current_business(two_businesses, in_business, db):
    acme, bolt = two_businesses
    with in_business(acme):
        assert sorted(c.name for c in db.session.scalars(select(Customer))) == ["Abe", "Ann"]
    with in_business(bolt):
        assert [c.name for c in db.session.scalars(select(Customer))] == ["Bea"]


def test_get_by_primary_key_of_another_business_finds_nothing(two_businesses, in_business, db):
    acme, bolt = two_businesses
    with in_business(bolt):
        bea_id = db.session.scalar(select(Customer.id))
        db.session.expunge_all()
    with in_business(acme):
        assert db.session.get(Customer, bea_id) is None


def test_reading_tenant_data_without_a_business_is_an_error(two_businesses, app, db):
    with app.app_context(), pytest.raises(TenancyError):
        db.session.scalars(select(Customer)).all()


def test_bulk_update_cannot_reach_another_business(two_businesses, in_business, db):
    acme, bolt = two_businesses
    with in_business(acme):
        db.session.execute(update(Customer).values(name="changed"))
        db.session.commit()
    with in_business(bolt):
        assert [c.name for c in db.session.scalars(select(Customer))] == ["Bea"]


def test_new_rows_are_stamped_and_cross_business_writes_refused(two_businesses, in_business, db):
    acme, bolt = two_businesses
    with in_business(acme):
        customer = Customer(name="Cal")
        db.session.add(customer)
        db.session.commit()
        assert customer.business_id == acme.id
        db.session.add(Customer(name="Sneaky", business_id=bolt.id))
        with pytest.raises(TenancyError):
            db.session.flush()
        db.session.rollback()


def test_joined_queries_are_scoped_too(two_businesses, in_business, db):
    acme, bolt = two_businesses
    with in_business(bolt):
        bea = db.session.scalar(select(Customer))
        db.session.add(Invoice(customer_id=bea.id, number="B-1", currency="USD"))
        db.session.commit()
    with in_business(acme):
        rows = db.session.execute(select(Invoice, Customer).join(Customer)).all()
        assert rows == []
    with in_business(bolt):
        assert len(db.session.execute(select(Invoice).join(Customer)).all()) == 1
