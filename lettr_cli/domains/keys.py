"""DKIM keys: 2048-bit RSA made with ``cryptography``, kept as PEM in the store.

The public half is published as the DKIM record's ``p=``: base64 of the DER
SubjectPublicKeyInfo (RFC 6376 §3.6.1). Loading a PEM key costs far more than one signature, so
loaded keys are cached by their PEM text.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_key: str  # the base64 DER SubjectPublicKeyInfo, as published in p=


@dataclass(frozen=True)
class DkimKey:
    """What signing for one domain needs: ``d=``, ``s=`` and the private key (PEM)."""

    domain: str
    selector: str
    private_pem: str

    def __repr__(self) -> str:  # never show the private key in a traceback or a log
        return f"DkimKey(domain={self.domain!r}, selector={self.selector!r})"


def generate_key_pair() -> KeyPair:
    """A new RSA-2048 key pair (PKCS#8 PEM private key, base64 DER public key)."""
    private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return KeyPair(private_pem=pem, public_key=public_key_text(private.public_key()))


def public_key_text(public: rsa.RSAPublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


@lru_cache(maxsize=64)
def load_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """The key object for a PEM text, loaded once per process and then reused."""
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("a DKIM key here must be an RSA private key")
    return key
