"""Reads of signing keys: public metadata only (the encrypted private key is never loaded)."""

from __future__ import annotations

from django.db.models import QuerySet

from keys.models import SigningKey


def signing_keys() -> QuerySet[SigningKey]:
    return SigningKey.objects.defer("private_key_ciphertext", "public_key_pem")
