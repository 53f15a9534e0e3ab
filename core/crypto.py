"""Encryption at rest for what the database must keep but a dump must not reveal.

Plugin secrets (a business's Stripe and Twilio keys) and the variables of messages waiting in the outbox
(live pay links and password links) are sealed with Fernet from the ``cryptography`` package, under a key
derived from ``SECRET_KEY`` by HKDF. Each use names its own ``purpose``, which gets a key of its own, so a
value sealed for one use cannot be passed off as another. Sealed values start with ``enc:``; any other
value is read back as it is (values stored before they were sealed).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

SEALED_PREFIX = "enc:"


def seal(value: str, purpose: str) -> str:
    """``value`` encrypted under the app's key for ``purpose``, as text for a database column."""
    return SEALED_PREFIX + _fernet(current_app.config["SECRET_KEY"], purpose).encrypt(value.encode()).decode()


def is_sealed(value: str | None) -> bool:
    return bool(value) and value.startswith(SEALED_PREFIX)


def unseal(value: str | None, purpose: str) -> str | None:
    """The plain text of a value sealed for ``purpose``; a value that is not sealed comes back unchanged.

    None when it cannot be decrypted: the secret key changed since it was sealed.
    """
    if not is_sealed(value):
        return value
    return _decrypt(current_app.config["SECRET_KEY"], purpose, value[len(SEALED_PREFIX):])


@functools.lru_cache(maxsize=16)
def _fernet(secret_key: str, purpose: str) -> Fernet:
    # Derived once per key and purpose: checking "is Stripe connected?" must not pay for HKDF on every page.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"suprata {purpose}".encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@functools.lru_cache(maxsize=1024)
def _decrypt(secret_key: str, purpose: str, token: str) -> str | None:
    # A sealed value never changes (saving seals anew), and some are read on every request (plugin keys):
    # each is decrypted once per process.
    try:
        return _fernet(secret_key, purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        return None
