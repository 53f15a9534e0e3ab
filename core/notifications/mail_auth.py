"""Email authentication: a DKIM key per business, the signature on its mail, and the DNS records to publish.

Mail that claims to come from a business's domain but carries no proof is what spam filters are built to
catch: a confirmation link sent that way often lands in spam, or nowhere. Three DNS records give the proof.
SPF lists the servers allowed to send for the domain; DKIM publishes a public key whose private half signs
each message (dkimpy, here, with a 2048-bit RSA key generated in the console and stored encrypted); DMARC
tells receivers what to do with mail that fails both and where to report it.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from email.utils import parseaddr

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.models import DkimKey
from core.tenancy import utcnow
from core.tenancy.state import current_business

KEY_BITS = 2048
# Signed headers: what a forger would change. Listing From twice stops a second From being added unseen.
SIGNED_HEADERS = [b"from", b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"reply-to",
                  b"mime-version", b"content-type"]


def sending_address() -> str:
    """The address the current business's mail comes from (its own, or the installation's default)."""
    _, address = parseaddr(current_business().mail_from or "")
    return address or parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def sending_domain() -> str:
    return sending_address().rpartition("@")[2].lower()


def current_key(domain: str | None = None) -> DkimKey | None:
    """The newest key of the current business for ``domain`` (default: its sending domain)."""
    return db.session.scalar(
        select(DkimKey).where(DkimKey.domain == (domain or sending_domain()))
        .order_by(DkimKey.created_at.desc(), DkimKey.id.desc()).limit(1))


def generate_key() -> DkimKey:
    """A new key for the current business's sending domain (in the caller's transaction).

    Its selector is new too, so records published for an older key keep verifying mail already sent.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    key = DkimKey(domain=sending_domain(), selector=f"suprata{utcnow():%Y%m%d%H%M%S}",
                  private_key=pem, public_key=base64.b64encode(public).decode())
    db.session.add(key)
    return key


def signature(message: bytes, key: DkimKey) -> bytes | None:
    """The ``DKIM-Signature:`` header line for ``message`` (CRLF line endings); None when the key cannot be
    read (the installation's secret key changed since it was stored: generate a new one)."""
    if key.private_key is None:
        return None
    return dkim.sign(message, key.selector.encode(), key.domain.encode(), key.private_key.encode(),
                     include_headers=SIGNED_HEADERS)


@dataclass(frozen=True)
class DnsRecord:
    """One TXT record to publish: at ``name``, holding ``value``, because ``why``."""

    kind: str
    name: str
    value: str
    why: str


def dns_records(domain: str, key: DkimKey | None) -> list[DnsRecord]:
    """The SPF, DKIM and DMARC records the business should publish for ``domain``."""
    records = [DnsRecord("SPF", domain, spf_record(),
                         "Lists the servers allowed to send mail for your domain. Keep one SPF record: if "
                         "you have one already, add this installation's server to it.")]
    if key is not None:
        records.append(DnsRecord("DKIM", f"{key.selector}._domainkey.{domain}",
                                 f"v=DKIM1; k=rsa; p={key.public_key}",
                                 "The public half of your signing key: receivers check each message's "
                                 "signature against it, so they know the mail is yours and unchanged."))
    inbox = current_business().email or sending_address()
    records.append(DnsRecord("DMARC", f"_dmarc.{domain}", f"v=DMARC1; p=none; rua=mailto:{inbox}",
                             "Tells receivers to check SPF and DKIM and to send reports to your inbox. Once "
                             "the reports show only your own mail, change p=none to p=quarantine."))
    return records


def spf_record() -> str:
    """``SUPRATA_MAIL_SPF`` if the installation sets it, else one naming the configured mail server."""
    configured = current_app.config.get("SUPRATA_MAIL_SPF")
    if configured:
        return configured
    server = current_app.config.get("MAIL_SERVER") or ""
    try:
        address = ipaddress.ip_address(server)
    except ValueError:
        mechanism = f"a:{server}" if re.fullmatch(r"[A-Za-z0-9.-]+", server) else "mx"
    else:
        mechanism = f"ip{address.version}:{address}"
    return f"v=spf1 {mechanism} ~all"
