from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField

PASSWORD_HASH_HELP = (
    "A password hash to import instead of a password, stored as given and re-hashed to argon2id "
    "on the next successful password check. Accepted formats: bcrypt (`$2a$`/`$2b$`/`$2y$` "
    "modular crypt, or Django's `bcrypt$$2b$…`), argon2id (PHC `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, "
    "or Django's `argon2$argon2id$…`), pbkdf2-sha256 (Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>`) "
    "and scrypt (Django's `scrypt$<n>$<salt>$<r>$<p>$<hash>`)."
)
_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_ARGON2ID = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
_PBKDF2 = re.compile(r"^pbkdf2_sha256\$\d{1,10}\$[^$]{1,128}\$[A-Za-z0-9+/=]{20,}$")
_SCRYPT = re.compile(r"^scrypt\$\d{1,10}\$[^$]{1,128}\$\d{1,4}\$\d{1,4}\$[A-Za-z0-9+/=]{20,}$")


def django_password_hash(value: str) -> str:
    """The imported hash in Django's stored format; ValidationError when it is none of the
    accepted formats."""
    if value.startswith("bcrypt$") and _BCRYPT.match(value.removeprefix("bcrypt$")):
        return value
    if _BCRYPT.match(value):
        return "bcrypt$" + value
    if value.startswith("argon2$") and _ARGON2ID.match(value.removeprefix("argon2")):
        return value
    if _ARGON2ID.match(value):
        return "argon2" + value
    if _PBKDF2.match(value) or _SCRYPT.match(value):
        return value
    raise serializers.ValidationError("Not a bcrypt, argon2id, pbkdf2-sha256 or scrypt hash.")


class AddressSerializer(StrictSerializer):
    street = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    locality = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    region = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)
    postalCode = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    country = serializers.CharField(min_length=2, max_length=2, required=False, allow_null=True)


class UserSerializer(ReadSerializer):
    """The wire representation of a user. The password hash is never exposed."""

    id = serializers.UUIDField()
    organizationId = serializers.UUIDField(source="organization_id")
    email = serializers.CharField()
    emailVerified = serializers.BooleanField(source="email_verified")
    externalId = serializers.CharField(source="external_id", allow_null=True)
    status = serializers.CharField()
    statusReason = serializers.CharField(source="status_reason")
    hasPassword = serializers.SerializerMethodField()
    passwordChangedAt = TimestampField(source="password_changed_at", allow_null=True)
    givenName = serializers.CharField(source="given_name")
    familyName = serializers.CharField(source="family_name")
    middleName = serializers.CharField(source="middle_name", allow_null=True)
    nickname = serializers.CharField(allow_null=True)
    preferredUsername = serializers.CharField(source="preferred_username", allow_null=True)
    profileUrl = serializers.CharField(source="profile_url", allow_null=True)
    pictureUrl = serializers.CharField(source="picture_url", allow_null=True)
    websiteUrl = serializers.CharField(source="website_url", allow_null=True)
    gender = serializers.CharField(allow_null=True)
    birthdate = serializers.DateField(allow_null=True)
    zoneinfo = serializers.CharField(allow_null=True)
    locale = serializers.CharField(allow_null=True)
    phoneNumber = serializers.CharField(source="phone_number", allow_null=True)
    phoneNumberVerified = serializers.BooleanField(source="phone_number_verified")
    address = serializers.JSONField(allow_null=True)
    lastLoginAt = TimestampField(source="last_login", allow_null=True)
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")

    def get_hasPassword(self, obj) -> bool:
        return obj.has_usable_password()


class _ProfileFields(StrictSerializer):
    ignored_fields = frozenset(
        {"id", "createdAt", "updatedAt", "status", "statusReason", "organizationId", "hasPassword",
         "passwordChangedAt", "lastLoginAt", "emailVerified", "email"}
    )  # fmt: skip

    givenName = serializers.CharField(source="given_name", max_length=255, required=False, allow_blank=True)
    familyName = serializers.CharField(source="family_name", max_length=255, required=False, allow_blank=True)
    middleName = serializers.CharField(source="middle_name", max_length=255, required=False, allow_null=True)
    nickname = serializers.CharField(max_length=255, required=False, allow_null=True)
    preferredUsername = serializers.CharField(
        source="preferred_username", max_length=255, required=False, allow_null=True
    )
    profileUrl = serializers.URLField(source="profile_url", max_length=2048, required=False, allow_null=True)
    pictureUrl = serializers.URLField(source="picture_url", max_length=2048, required=False, allow_null=True)
    websiteUrl = serializers.URLField(source="website_url", max_length=2048, required=False, allow_null=True)
    gender = serializers.CharField(max_length=50, required=False, allow_null=True)
    birthdate = serializers.DateField(required=False, allow_null=True, input_formats=["%Y-%m-%d"])
    zoneinfo = serializers.CharField(max_length=64, required=False, allow_null=True)
    locale = serializers.CharField(max_length=10, required=False, allow_null=True)
    phoneNumber = serializers.CharField(source="phone_number", max_length=32, required=False, allow_null=True)
    phoneNumberVerified = serializers.BooleanField(source="phone_number_verified", required=False)
    address = AddressSerializer(required=False, allow_null=True)
    externalId = serializers.CharField(
        source="external_id", min_length=1, max_length=255, required=False, allow_null=True
    )

    def validate(self, attrs):
        for name in ("given_name", "family_name"):
            if attrs.get(name, "") is None:
                attrs[name] = ""
        return attrs


class UserCreateSerializer(_ProfileFields):
    ignored_fields = _ProfileFields.ignored_fields - {"email", "emailVerified"}

    email = serializers.EmailField(max_length=255)
    emailVerified = serializers.BooleanField(source="email_verified", required=False)
    password = serializers.CharField(min_length=8, max_length=128, required=False, trim_whitespace=False)
    passwordHash = serializers.CharField(
        source="password_hash", max_length=512, required=False, help_text=PASSWORD_HASH_HELP
    )

    def validate_passwordHash(self, value: str) -> str:
        return django_password_hash(value)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "password" in attrs and "password_hash" in attrs:
            raise serializers.ValidationError({"passwordHash": ["Send either password or passwordHash."]})
        return attrs


class UserUpdateSerializer(_ProfileFields):
    pass


class RequiredReasonSerializer(StrictSerializer):
    reason = serializers.CharField(min_length=1, max_length=500)


class PasswordSerializer(StrictSerializer):
    password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)


class PurgeSerializer(StrictSerializer):
    confirmPurge = serializers.BooleanField(required=False)


class BatchSerializer(StrictSerializer):
    users = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000)


class BatchResultItemSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.UUIDField(required=False)
    error = serializers.DictField(required=False)


class BatchResultSerializer(serializers.Serializer):
    results = BatchResultItemSerializer(many=True)


class UserExportSerializer(serializers.Serializer):
    profile = UserSerializer()
    organization = serializers.DictField()
    roles = serializers.ListField(child=serializers.DictField())
    claimValues = serializers.ListField(child=serializers.DictField())
    auditEntries = serializers.ListField(child=serializers.DictField())
    sessions = serializers.ListField(child=serializers.DictField())
    exportedAt = serializers.CharField()


_SURROGATES = re.compile("[\ud800-\udfff]")


class BatchItemValidator:
    """Validates batch items exactly as ``UserCreateSerializer`` does, in a few microseconds for
    the common shapes: an item whose fields are all strings, emails, booleans or hashes, and all
    valid, goes through plain checks of the serializer's own limits and validators; any other item
    (other fields, other types, anything invalid) goes through the serializer itself, which also
    words its errors. DRF spends half a millisecond per item, the whole budget of a fast import."""

    def __init__(self, serializer: UserCreateSerializer):
        self.serializer = serializer
        self.ignored = serializer.ignored_fields - set(serializer.fields)
        self.required = [field.source for field in serializer.fields.values() if field.required]
        self.plain: dict[str, tuple[str, serializers.Field, Any]] = {}
        for name, field in serializer.fields.items():
            check = getattr(serializer, f"validate_{name}", None)
            if type(field) is serializers.BooleanField:
                self.plain[name] = ("bool", field, None)
            elif type(field) in (serializers.CharField, serializers.EmailField) and field.trim_whitespace:
                self.plain[name] = ("text", field, check)

    def validate(self, data: Any) -> dict[str, Any]:
        """The validated item (source names as keys); raises ValidationError as the serializer."""
        fast = self._fast(data) if isinstance(data, dict) else None
        return fast if fast is not None else dict(self.serializer.run_validation(data))

    def _fast(self, data: dict[str, Any]) -> dict[str, Any] | None:
        attrs: dict[str, Any] = {}
        for name, value in data.items():
            plan = self.plain.get(name)
            if plan is None:
                if name in self.ignored:
                    continue
                return None
            kind, field, check = plan
            if value is None:
                if not field.allow_null or check is not None:
                    return None
            elif kind == "bool":
                if type(value) is not bool:
                    return None
            else:
                value = self._text(field, value, check)
                if value is None:
                    return None
            attrs[field.source] = value
        if not all(source in attrs for source in self.required):
            return None
        try:
            return self.serializer.validate(attrs)
        except serializers.ValidationError:
            return None

    @staticmethod
    def _text(field: serializers.CharField, value: Any, check) -> str | None:
        if type(value) is not str:
            return None
        value = value.strip()
        if value == "":
            return "" if field.allow_blank else None
        if _SURROGATES.search(value):  # DRF's check, one regular expression instead of a loop
            return None
        try:
            for validator in field.validators:  # lengths, NUL characters, the email
                if type(validator) is not ProhibitSurrogateCharactersValidator:
                    validator(value)
            return check(value) if check is not None else value
        except (serializers.ValidationError, DjangoValidationError):
            return None
