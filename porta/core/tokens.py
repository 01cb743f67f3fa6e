"""High-entropy secrets (refresh tokens, client secrets, API keys): generated here, stored only as
keyed hashes. HMAC-SHA256 with a server pepper, not argon2: these secrets carry 256 bits of
entropy, so a slow hash adds no safety and would cap verification at a few per second."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def keyed_hash(value: str) -> str:
    return hmac.new(settings.PORTA_TOKEN_PEPPER.encode(), value.encode(), hashlib.sha256).hexdigest()


def matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(keyed_hash(value), stored_hash)
