from __future__ import annotations

from rest_framework import serializers

from applications.selectors import clients as client_selectors
from applications.services.clients import (
    APPLICATION_TYPES,
    AUTH_METHODS,
    CLIENT_TYPES,
    GRANT_TYPES,
    MAX_REDIRECT_URIS,
    RESPONSE_TYPES,
)
from organizations.models import LOGIN_METHODS
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField

_URI_MAX = 2048


def _strings(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=_URI_MAX), **kwargs)


def _unique(values: list[str] | None) -> list[str] | None:
    return None if values is None else list(dict.fromkeys(values))


class ClientSerializer(ReadSerializer):
    """The wire representation of a client. ``usable`` tells whether it can sign anyone in now."""

    id = serializers.UUIDField()
    organizationId = serializers.UUIDField(source="organization_id")
    applicationId = serializers.UUIDField(source="application_id")
    clientId = serializers.CharField(source="client_id")
    clientName = serializers.CharField(source="client_name")
    clientType = serializers.CharField(source="client_type")
    applicationType = serializers.CharField(source="application_type")
    redirectUris = serializers.ListField(source="redirect_uris", child=serializers.CharField())
    postLogoutRedirectUris = serializers.ListField(
        source="post_logout_redirect_uris", child=serializers.CharField()
    )
    grantTypes = serializers.ListField(source="grant_types", child=serializers.CharField())
    responseTypes = serializers.ListField(source="response_types", child=serializers.CharField())
    scope = serializers.CharField()
    tokenEndpointAuthMethod = serializers.CharField(source="token_endpoint_auth_method")
    allowedOrigins = serializers.ListField(source="allowed_origins", child=serializers.CharField())
    requirePkce = serializers.BooleanField(source="require_pkce")
    loginMethods = serializers.ListField(
        source="login_methods", child=serializers.CharField(), allow_null=True
    )
    effectiveLoginMethods = serializers.SerializerMethodField()
    status = serializers.CharField()
    usable = serializers.SerializerMethodField()
    unusableReason = serializers.SerializerMethodField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_effectiveLoginMethods(self, obj) -> list[str]:
        return client_selectors.effective_login_methods(obj)

    def get_usable(self, obj) -> bool:
        return client_selectors.unusable_reason(obj) is None

    def get_unusableReason(self, obj) -> str | None:
        return client_selectors.unusable_reason(obj)


class ClientSecretSerializer(ReadSerializer):
    """A secret's metadata. The plaintext is shown once at creation; the hash never."""

    id = serializers.UUIDField()
    label = serializers.CharField()
    status = serializers.CharField()
    expiresAt = TimestampField(source="expires_at", allow_null=True)
    lastUsedAt = TimestampField(source="last_used_at", allow_null=True)
    createdAt = TimestampField(source="created_at")


class _ClientSettingsFields(StrictSerializer):
    """What a caller may set on a client, at creation and afterwards."""

    postLogoutRedirectUris = _strings(
        source="post_logout_redirect_uris", max_length=MAX_REDIRECT_URIS, required=False
    )
    grantTypes = serializers.ListField(
        source="grant_types", child=serializers.ChoiceField(choices=GRANT_TYPES), min_length=1, required=False
    )
    responseTypes = serializers.ListField(
        source="response_types",
        child=serializers.ChoiceField(choices=RESPONSE_TYPES),
        min_length=1,
        required=False,
    )
    scope = serializers.CharField(max_length=1000, required=False)
    tokenEndpointAuthMethod = serializers.ChoiceField(
        source="token_endpoint_auth_method", choices=AUTH_METHODS, required=False
    )
    allowedOrigins = _strings(source="allowed_origins", max_length=20, required=False)
    requirePkce = serializers.BooleanField(source="require_pkce", required=False)
    loginMethods = serializers.ListField(
        source="login_methods",
        child=serializers.ChoiceField(choices=LOGIN_METHODS),
        min_length=1,
        allow_null=True,
        required=False,
    )

    def validate_postLogoutRedirectUris(self, value):
        return _unique(value)

    def validate_grantTypes(self, value):
        return _unique(value)

    def validate_responseTypes(self, value):
        return _unique(value)

    def validate_allowedOrigins(self, value):
        return _unique(value)

    def validate_loginMethods(self, value):
        return _unique(value)

    def validate_redirectUris(self, value):
        return _unique(value)


class ClientCreateSerializer(_ClientSettingsFields):
    organizationId = serializers.UUIDField(source="organization_id")
    applicationId = serializers.UUIDField(source="application_id")
    clientName = serializers.CharField(source="client_name", min_length=1, max_length=255)
    clientType = serializers.ChoiceField(source="client_type", choices=CLIENT_TYPES)
    applicationType = serializers.ChoiceField(source="application_type", choices=APPLICATION_TYPES)
    redirectUris = _strings(source="redirect_uris", min_length=1, max_length=MAX_REDIRECT_URIS)
    secretLabel = serializers.CharField(
        source="secret_label", max_length=255, required=False, allow_blank=True
    )


class ClientUpdateSerializer(_ClientSettingsFields):
    ignored_fields = frozenset(
        {"id", "createdAt", "updatedAt", "status", "effectiveLoginMethods", "usable", "unusableReason"}
    )

    clientName = serializers.CharField(source="client_name", min_length=1, max_length=255, required=False)
    redirectUris = _strings(
        source="redirect_uris", min_length=1, max_length=MAX_REDIRECT_URIS, required=False
    )
    # Fixed at creation: accepted so a GET-modify-PUT round trip works, refused if changed.
    organizationId = serializers.UUIDField(source="organization_id", required=False)
    applicationId = serializers.UUIDField(source="application_id", required=False)
    clientId = serializers.CharField(source="client_id", required=False)
    clientType = serializers.CharField(source="client_type", required=False)
    applicationType = serializers.CharField(source="application_type", required=False)


class ClientSecretCreateSerializer(StrictSerializer):
    label = serializers.CharField(max_length=255, required=False, allow_blank=True)
    expiresAt = serializers.DateTimeField(source="expires_at", required=False, allow_null=True)


class ClientCreatedSerializer(serializers.Serializer):
    client = ClientSerializer()
    secret = serializers.CharField(allow_null=True)
    warning = serializers.CharField(required=False)


class ClientSecretCreatedSerializer(serializers.Serializer):
    clientSecret = ClientSecretSerializer()
    secret = serializers.CharField()
    warning = serializers.CharField()


class ClientSecretListSerializer(serializers.Serializer):
    data = ClientSecretSerializer(many=True)
