"""Password hashing with argon2id (argon2-cffi) and the password policy.

The policy refuses passwords that are short or easy to guess. "Easy to guess" is zxcvbn's estimate, which
knows the most common passwords, names and words, keyboard patterns, dates and l33t spellings, and the
words of the account itself (email, name, business), and says why a password is weak.
"""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 1024  # long passphrases are welcome; the bound only stops absurd request bodies
# zxcvbn's scores 0 and 1 mean fewer than a million guesses: a common password or close to one.
MIN_GUESS_SCORE = 2
# zxcvbn takes at most 72 characters (its time grows fast with length); they decide whether a password
# is guessable, and a longer one is a passphrase.
GUESS_CHECKED_LENGTH = 72

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when no such user exists, so a login takes as long for unknown emails as for known ones.
_DUMMY_HASH = _hasher.hash("suprata-timing-equaliser")


def password_problem(password: str, user_inputs: Iterable[str | None] = ()) -> str | None:
    """A user-facing reason the password is not acceptable, or None.

    ``user_inputs`` are words of the account (email, name, business name) that make a password guessable.
    """
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    words = [part for value in user_inputs if value for part in (value, *value.replace("@", " ").split())]
    estimate = zxcvbn(password[:GUESS_CHECKED_LENGTH], user_inputs=words)
    if estimate["score"] >= MIN_GUESS_SCORE:
        return None
    feedback = estimate["feedback"]
    own_words = any(match.get("dictionary_name") == "user_inputs" for match in estimate["sequence"])
    why = feedback["warning"] or ("It is built from your name, email or business name." if own_words
                                  else "It is close to passwords that people pick often.")
    advice = " ".join(feedback["suggestions"][:1]) or "Try a phrase of four or more uncommon words."
    return f"This password is too easy to guess. {why} {advice}"


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
