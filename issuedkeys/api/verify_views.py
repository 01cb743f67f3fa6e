"""Verifying issued API keys (admin) and revoking one's own key (public).

- ``POST /api/admin/api-keys/verify {credential}`` and ``…/verify/batch {requests: [{credential}]}``
  (≤ 100): always 200 with ``isValid`` and ``errorCode``; an organization-scoped caller sees a
  key of another organization as ``NOT_FOUND``, exactly like an unknown one.
- ``POST /api/public/api-keys/revoke {credential, reason?}``: no authentication; holding the
  key is the proof. 204 (also for a key already revoked); unknown, malformed and tampered
  credentials 404; rate limited per client IP.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from issuedkeys import services, verification
from issuedkeys.models import IssuedApiKey
from issuedkeys.verification import Verification
from porta.api.schema import ErrorSerializer
from porta.api.serializers import StrictSerializer, iso_ms
from porta.api.viewsets import PortaViewSet
from porta.core import ratelimit
from porta.core.context import Actor
from porta.core.errors import InvalidTransition, NotFound, TooManyRequests
from porta.core.metrics import THROTTLED_REQUESTS

BATCH_MAX = 100
#: The revocation reason recorded when the holder gives none.
SELF_REVOKED = "self_revoked"
#: Verification answers describe a moment: no cache on the way may keep them.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class VerifyRequestSerializer(StrictSerializer):
    #: Any string: what is not an issued key is answered with INVALID_FORMAT, not a 400.
    credential = serializers.CharField(allow_blank=True, trim_whitespace=False)


class BatchVerifyRequestSerializer(StrictSerializer):
    requests = serializers.ListField(child=VerifyRequestSerializer(), min_length=1, max_length=BATCH_MAX)


class VerifyResultSerializer(serializers.Serializer):
    """Documentation of the answer (rendered by ``represent``, on the hot path)."""

    isValid = serializers.BooleanField()
    errorCode = serializers.ChoiceField(choices=verification.ERROR_CODES, allow_null=True)
    keyId = serializers.UUIDField(allow_null=True)
    organizationId = serializers.UUIDField(allow_null=True)
    actorId = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField(), allow_null=True)
    metadata = serializers.DictField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)


class BatchVerifyResultSerializer(serializers.Serializer):
    results = VerifyResultSerializer(many=True)


class SelfRevokeRequestSerializer(StrictSerializer):
    credential = serializers.CharField(allow_blank=True, trim_whitespace=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


def represent(result: Verification) -> dict:
    key = result.key
    if key is None:
        return {
            "isValid": result.is_valid,
            "errorCode": result.error_code,
            "keyId": None,
            "organizationId": None,
            "actorId": None,
            "scopes": None,
            "metadata": None,
            "expiresAt": None,
        }
    return {
        "isValid": result.is_valid,
        "errorCode": result.error_code,
        "keyId": str(key.id),
        "organizationId": str(key.organization_id),
        "actorId": key.actor_id,
        "scopes": list(key.scopes),
        "metadata": key.metadata,
        "expiresAt": iso_ms(key.expires_at),
    }


class IssuedApiKeyVerifyViewSet(PortaViewSet):
    """Registered ahead of the admin API keys' ``api-keys/{id}`` routes, which would otherwise
    read ``verify`` as a key id."""

    queryset = IssuedApiKey.objects.all()
    organization_field = "organization_id"
    permission_map = {"verify": "admin:issued-key:verify", "batch_verify": "admin:issued-key:verify"}

    @extend_schema(request=VerifyRequestSerializer, responses=VerifyResultSerializer)
    @action(detail=False, methods=["post"])
    def verify(self, request):
        """Whether ``credential`` is a valid issued API key, and what it carries. Always 200:
        ``errorCode`` is ``NOT_FOUND`` (unknown, tampered, or another organization's key),
        ``EXPIRED``, ``REVOKED`` or ``INVALID_FORMAT``; null when the key is valid."""
        data = request.data
        if isinstance(data, dict) and data.keys() == {"credential"} and isinstance(data["credential"], str):
            credential = data["credential"]  # the well-formed body, without a serializer's cost
        else:
            credential = self.validated(VerifyRequestSerializer)["credential"]  # names the problem
        result = verification.verify(credential, organization_id=self.principal.scope_organization_id)
        return Response(represent(result), headers=NO_STORE)

    @extend_schema(request=BatchVerifyRequestSerializer, responses=BatchVerifyResultSerializer)
    @action(detail=False, methods=["post"], url_path="verify/batch")
    def batch_verify(self, request):
        """Up to 100 credentials, each answered as by ``verify``, in order."""
        items = self.validated(BatchVerifyRequestSerializer)["requests"]
        results = verification.verify_many(
            [item["credential"] for item in items], organization_id=self.principal.scope_organization_id
        )
        return Response({"results": [represent(result) for result in results]}, headers=NO_STORE)


class SelfRevokeView(APIView):
    """``POST /api/public/api-keys/revoke``: a key's holder revokes it with the key itself."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="public_api_keys_revoke",
        tags=["public"],
        auth=[],
        request=SelfRevokeRequestSerializer,
        responses={
            204: OpenApiResponse(description="Revoked (or already revoked)"),
            **{
                status: OpenApiResponse(response=ErrorSerializer, description=description)
                for status, description in (
                    (400, "ValidationError"),
                    (404, "NotFound: unknown, malformed or tampered credential"),
                    (413, "PayloadTooLarge"),
                    (406, "NotAcceptable"),
                    (415, "UnsupportedMediaType"),
                    (429, "TooManyRequests (per client IP)"),
                    (503, "ServiceUnavailable"),
                )
            },
        },
    )
    def post(self, request):
        """Revokes the issued API key presented in the body. No authentication: holding the key
        proves the right to revoke it. Idempotent: a key already revoked answers 204 too."""
        ip = getattr(request, "porta_client_ip", None) or request.META.get("REMOTE_ADDR", "")
        decision = ratelimit.hit(
            f"public-revoke:{ip}",
            limit=settings.PORTA_PUBLIC_REVOKE_RATE_LIMIT,
            window=settings.PORTA_PUBLIC_REVOKE_RATE_WINDOW,
        )
        if not decision.allowed:
            THROTTLED_REQUESTS.labels(scope="public_revoke").inc()
            raise TooManyRequests(headers={"Retry-After": str(decision.reset), **decision.headers()})
        serializer = SelfRevokeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = verification.possessed_key(data["credential"])
        if key is None:
            raise NotFound("API key not found")
        if key.status == IssuedApiKey.Status.ACTIVE:
            # Revoked meanwhile by someone else (409 from the engine): the holder's wish holds.
            with contextlib.suppress(InvalidTransition):
                services.issued_api_key_revoke(
                    actor=Actor(type="issued_api_key", id=key.id, label="self-revocation"),
                    key=key,
                    reason=data.get("reason") or SELF_REVOKED,
                )
        return Response(status=http.HTTP_204_NO_CONTENT, headers=NO_STORE)
