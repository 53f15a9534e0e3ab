"""The business's ID-token signing keys: made on first use, rotated by ``suprata rotate-oidc-key``.

Keys are ES256 (P-256) and belong to one business, so a token one business signed can never pass as
another's. The private half is sealed at rest (:mod:`core.crypto`). After a rotation the old key stays in
the published key set until every token it signed has expired (:data:`ID_TOKEN_TTL` plus the leeway
clients allow), then drops out.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select

from core.crypto import seal, unseal
from core.extensions import db
from core.models import OidcSigningKey
from core.tenancy import require_business_id, utcnow

ALGORITHM = "ES256"
ID_TOKEN_TTL = timedelta(minutes=5)
SEAL_PURPOSE = "oidc signing key"


def published_for() -> timedelta:
    """How long a retired key stays published: its last token's lifetime plus the clock leeway."""
    return ID_TOKEN_TTL + timedelta(seconds=current_app.config["SUPRATA_SSO_LEEWAY_SECONDS"])


def _new_key() -> OidcSigningKey:
    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
    row = OidcSigningKey(kid=kid, alg=ALGORITHM, public_jwk=public,
                         private_jwk=seal(json.dumps(key.as_dict(private=True)), SEAL_PURPOSE))
    db.session.add(row)
    db.session.flush()
    return row


def signing_key() -> OidcSigningKey:
    """The current business's key that signs now; made and committed on first use, so the key set
    published next already holds it."""
    require_business_id()
    row = db.session.scalar(select(OidcSigningKey).where(OidcSigningKey.retired_at.is_(None))
                            .order_by(OidcSigningKey.created_at.desc(), OidcSigningKey.id.desc()).limit(1))
    if row is None:
        row = _new_key()
        db.session.commit()
    return row


def private_key(row: OidcSigningKey) -> ECKey:
    """The private key of ``row``, unsealed, with its key id."""
    data = json.loads(unseal(row.private_jwk, SEAL_PURPOSE))
    return ECKey.import_key({**data, "kid": row.kid})


def rotate() -> OidcSigningKey:
    """Retire the signing key and make a new one; the old one stays published until its tokens expire."""
    now = utcnow()
    for row in db.session.scalars(select(OidcSigningKey).where(OidcSigningKey.retired_at.is_(None))):
        row.retired_at = now
    return _new_key()


def published_keys() -> list[dict]:
    """The public keys clients may see tokens signed with: the signing key and recently retired ones."""
    signing_key()
    cutoff = utcnow() - published_for()
    rows = db.session.scalars(
        select(OidcSigningKey)
        .where(or_(OidcSigningKey.retired_at.is_(None), OidcSigningKey.retired_at > cutoff))
        .order_by(OidcSigningKey.created_at.desc(), OidcSigningKey.id.desc())
    )
    return [row.public_jwk for row in rows]


def verification_keys() -> KeySet:
    """The published keys as a key set, for checking a token this business signed."""
    return KeySet.import_key_set({"keys": published_keys()})
