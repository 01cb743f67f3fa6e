"""Signing keys, with real ES256 key material encrypted under the configured key-encryption key."""

from __future__ import annotations

import factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from keys import crypto
from keys.keyring import jwk_thumbprint, public_jwk
from keys.models import SigningKey, SigningKeyStatus


def _key_material() -> dict[str, object]:
    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = jwk_thumbprint(public_jwk(private_key.public_key()))
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kek_id, ciphertext = crypto.encrypt(der, associated_data=kid.encode())
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "kid": kid,
        "public_key_pem": pem.decode(),
        "private_key_ciphertext": ciphertext,
        "kek_id": kek_id,
    }


class SigningKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SigningKey

    status = SigningKeyStatus.ACTIVE
    activated_at = factory.LazyAttribute(
        lambda key: timezone.now() if key.status == SigningKeyStatus.ACTIVE else None
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return super()._create(model_class, *args, **{**_key_material(), **kwargs})
