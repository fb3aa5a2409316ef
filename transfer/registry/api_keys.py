"""API keys: random, shown once, stored only as a SHA-256 digest, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "ipx_"


def new_api_key() -> str:
    # 32 random bytes: a hash lookup of such a key needs no salt or slow KDF, since it cannot be
    # guessed or found in a dictionary.
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def digests_match(stored_digest: str, api_key: str) -> bool:
    return hmac.compare_digest(stored_digest, digest_api_key(api_key))


def display_prefix(api_key: str) -> str:
    """The first characters, safe to show in lists so an operator can tell keys apart."""
    return api_key[:10]
