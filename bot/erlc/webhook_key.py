"""PRC's webhook public key: the published default and reading one (SPKI DER, base64) into an Ed25519 key."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

# The key PRC publishes for its event webhooks (bot/erlc/prc-api.md).
PRC_WEBHOOK_PUBLIC_KEY = "MCowBQYDK2VwAyEAjSICb9pp0kHizGQtdG8ySWsDChfGqi+gyFCttigBNOA="


def load_public_key(value: str) -> Ed25519PublicKey:
    """The Ed25519 public key written as PRC publishes it; ValueError (without the value) when it is not one."""
    try:
        der = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64 (paste the key as PRC publishes it: SPKI, base64)") from None
    try:
        key = load_der_public_key(der)
    except ValueError:
        raise ValueError("is not a public key in SPKI form (paste the key as PRC publishes it)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("is not an Ed25519 public key")
    return key
