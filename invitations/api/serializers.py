from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import StrictSerializer


class InviteRoleSerializer(StrictSerializer):
    applicationId = serializers.UUIDField()
    roleId = serializers.UUIDField()


class InviteClaimSerializer(StrictSerializer):
    applicationId = serializers.UUIDField()
    claimDefinitionId = serializers.UUIDField()
    value = serializers.JSONField(help_text="Checked against the claim's type; null is never valid")


class InviteSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=255)
    givenName = serializers.CharField(source="given_name", max_length=255, required=False, allow_blank=True)
    familyName = serializers.CharField(source="family_name", max_length=255, required=False, allow_blank=True)
    personalMessage = serializers.CharField(
        source="personal_message", max_length=500, required=False, allow_blank=True
    )
    locale = serializers.CharField(max_length=10, required=False)
    roles = InviteRoleSerializer(
        many=True, required=False, max_length=100, help_text="Roles given when the invitation is accepted"
    )
    claims = InviteClaimSerializer(
        many=True, required=False, max_length=100, help_text="Claim values set on acceptance"
    )


class InviteResultSerializer(serializers.Serializer):
    userId = serializers.UUIDField()
    email = serializers.CharField()
    created = serializers.BooleanField()
    invitationSent = serializers.BooleanField()
    expiresAt = serializers.CharField()


class InvitePreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    html = serializers.CharField()
