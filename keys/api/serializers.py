from __future__ import annotations

from rest_framework import serializers

from keys.models import SigningKeyStatus
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class SigningKeySerializer(ReadSerializer):
    """The public side of a signing key. Private material (even encrypted) is never on the wire."""

    id = serializers.UUIDField()
    kid = serializers.CharField()
    algorithm = serializers.CharField()
    status = serializers.CharField(help_text="next | active | retired | revoked")
    createdAt = TimestampField(source="created_at")
    activatedAt = TimestampField(source="activated_at", allow_null=True)
    retiredAt = TimestampField(source="retired_at", allow_null=True)
    revokedAt = TimestampField(source="revoked_at", allow_null=True)
    publishedUntil = TimestampField(
        source="published_until",
        allow_null=True,
        help_text="For a retired key: when it leaves the JWKS and stops verifying (token lifetime + 60 s)",
    )


class SigningKeyGenerateSerializer(StrictSerializer):
    """The optional body of ``POST /keys``."""

    status = serializers.ChoiceField(
        choices=[SigningKeyStatus.NEXT, SigningKeyStatus.ACTIVE],
        default=SigningKeyStatus.NEXT,
        help_text="'next' (default): published in the JWKS, signs after the next rotation. "
        "'active': signs at once; only when no key is active (409 otherwise).",
    )


class SigningKeyRotatedSerializer(SigningKeySerializer):
    """The new active key, with what the rotation did around it."""

    retiredCount = serializers.IntegerField(help_text="Previously active keys now retired")
    nextKey = SigningKeySerializer(
        allow_null=True, help_text="The key published to sign after the following rotation"
    )
