"""Password hashing with argon2id (argon2-cffi) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # long passphrases are welcome; the bound only stops absurd request bodies

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when no such user exists, so a login takes as long for unknown emails as for known ones.
_DUMMY_HASH = _hasher.hash("suprata-timing-equaliser")


def password_problem(password: str) -> str | None:
    """A user-facing reason the password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        _equalise_timing(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _equalise_timing(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


def verify_unknown_user(password: str) -> bool:
    """Spend the time a real check would, then fail: no user enumeration through timing."""
    _equalise_timing(password)
    return False
