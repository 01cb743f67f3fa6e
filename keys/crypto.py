"""Envelope encryption of private keys: AES-256-GCM under a key-encryption key (KEK).

``PORTA_KEY_ENCRYPTION_KEY`` is one or more URL-safe base64 32-byte keys, comma-separated; the
first encrypts, all decrypt (so a KEK can be rotated and keys rewrapped at leisure).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from porta.core.config import decode_kek

NONCE_BYTES = 12


@lru_cache(maxsize=4)
def _parse_keks(raw: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    keks = []
    for item in raw:
        try:
            key = decode_kek(item)  # the rule settings checked at start; here for overridden settings
        except ValueError as exc:
            raise ImproperlyConfigured(f"PORTA_KEY_ENCRYPTION_KEY: {exc}") from exc
        keks.append((hashlib.sha256(key).hexdigest()[:16], key))
    if not keks:
        raise ImproperlyConfigured("PORTA_KEY_ENCRYPTION_KEY is empty")
    return tuple(keks)


def key_encryption_keys() -> tuple[tuple[str, bytes], ...]:
    """``(kek_id, key)`` pairs, the encrypting one first."""
    return _parse_keks(tuple(settings.PORTA_KEY_ENCRYPTION_KEYS))


def encrypt(plaintext: bytes, *, associated_data: bytes) -> tuple[str, bytes]:
    kek_id, key = key_encryption_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    return kek_id, nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def decrypt(ciphertext: bytes, *, kek_id: str, associated_data: bytes) -> bytes:
    for candidate_id, key in key_encryption_keys():
        if candidate_id == kek_id:
            data = bytes(ciphertext)
            return AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], associated_data)
    raise ImproperlyConfigured(
        f"No key-encryption key with id {kek_id} is configured: add the old key to PORTA_KEY_ENCRYPTION_KEY"
    )
