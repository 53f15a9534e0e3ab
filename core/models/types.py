"""Column types shared by the models."""

import json
from datetime import UTC, datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from core.crypto import seal, unseal


class UTCDateTime(TypeDecorator):
    """Stores UTC, always returns timezone-aware datetimes (SQLite would otherwise drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use core.tenancy.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SealedText(TypeDecorator):
    """Text encrypted at rest (:mod:`core.crypto`), for values that hold live links or secrets.

    A value stored before sealing is read back as it is; one that cannot be decrypted (the secret key
    changed) reads as None.
    """

    impl = Text
    cache_ok = True
    purpose = "stored text"

    def process_bind_param(self, value: str | None, dialect):
        return None if value is None else seal(value, self.purpose)

    def process_result_value(self, value: str | None, dialect):
        return unseal(value, self.purpose)


class SealedJSON(TypeDecorator):
    """A JSON value encrypted at rest; reads as None when it cannot be decrypted."""

    impl = Text
    cache_ok = True
    purpose = "stored values"

    def process_bind_param(self, value, dialect):
        return seal(json.dumps(value), self.purpose)

    def process_result_value(self, value: str | None, dialect):
        plain = unseal(value, self.purpose)
        return None if plain is None else json.loads(plain)
