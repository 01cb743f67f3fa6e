from __future__ import annotations

from rest_framework import serializers

from organizations.models import LOGIN_METHODS
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class BrandingSerializer(StrictSerializer):
    logoUrl = serializers.URLField(source="logo_url", max_length=2048, allow_null=True, required=False)
    faviconUrl = serializers.URLField(source="favicon_url", max_length=2048, allow_null=True, required=False)
    primaryColor = serializers.RegexField(
        r"^#[0-9A-Fa-f]{6}$",
        source="primary_color",
        allow_null=True,
        required=False,
        error_messages={"invalid": "Must be a colour like #1A2B3C."},
    )
    companyName = serializers.CharField(
        source="company_name", max_length=255, allow_null=True, required=False
    )
    customCss = serializers.CharField(
        source="custom_css", max_length=10000, allow_null=True, allow_blank=True, required=False
    )


class OrganizationSerializer(ReadSerializer):
    """The wire representation of an organization."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.CharField()
    isSuperAdmin = serializers.BooleanField(source="is_super_admin")
    defaultLocale = serializers.CharField(source="default_locale")
    defaultLoginMethods = serializers.ListField(source="default_login_methods", child=serializers.CharField())
    twoFactorPolicy = serializers.CharField(source="two_factor_policy")
    branding = serializers.SerializerMethodField()
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_branding(self, obj) -> dict:
        return {
            "logoUrl": obj.branding_logo_url,
            "faviconUrl": obj.branding_favicon_url,
            "primaryColor": obj.branding_primary_color,
            "companyName": obj.branding_company_name,
            "customCss": obj.branding_custom_css,
        }


class _OrganizationWriteFields(StrictSerializer):
    ignored_fields = frozenset({"id", "createdAt", "updatedAt", "status", "isSuperAdmin", "twoFactorPolicy"})

    name = serializers.CharField(min_length=1, max_length=255)
    defaultLocale = serializers.CharField(
        source="default_locale", min_length=2, max_length=10, required=False
    )
    defaultLoginMethods = serializers.ListField(
        source="default_login_methods",
        child=serializers.ChoiceField(choices=LOGIN_METHODS),
        min_length=1,
        required=False,
    )
    branding = BrandingSerializer(required=False)

    def validate_defaultLoginMethods(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class OrganizationCreateSerializer(_OrganizationWriteFields):
    slug = serializers.CharField(min_length=3, max_length=100, required=False)


class OrganizationUpdateSerializer(_OrganizationWriteFields):
    name = serializers.CharField(min_length=1, max_length=255, required=False)
    slug = serializers.CharField(max_length=100, required=False)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SlugValidationSerializer(serializers.Serializer):
    isValid = serializers.BooleanField()
    error = serializers.CharField(required=False)


class DeleteResultSerializer(serializers.Serializer):
    organization = OrganizationSerializer()
    cascadeCounts = serializers.DictField(child=serializers.IntegerField())
    dryRun = serializers.BooleanField(required=False)
