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

import orjson
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from issuedkeys import services, verification
from issuedkeys.models import IssuedApiKey
from issuedkeys.verification import Verification
from porta.api.errors import response_for_exception
from porta.api.permissions import check_admin_permission
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
#: What a client may accept for the lean path to answer (anything else takes DRF's negotiation).
_PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})


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


def _plain_verify_credential(request) -> str | None:
    """The credential of a well-formed verify call (see ``dispatch``), or None."""
    meta = request.META
    if not meta.get("CONTENT_TYPE", "").startswith("application/json"):
        return None
    if meta.get("HTTP_ACCEPT", "") not in _PLAIN_ACCEPTS or not meta.get("HTTP_AUTHORIZATION"):
        return None
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict) and data.keys() == {"credential"} and isinstance(data["credential"], str):
        return data["credential"]
    return None


def _principal(authenticators, request) -> object:
    """What DRF's ``Request`` would leave on ``request.auth``: the first authenticator that
    recognizes the credential decides (the configured ones read headers only)."""
    for authenticator in authenticators:
        authenticated = authenticator.authenticate(request)
        if authenticated is not None:
            return authenticated[1]
    return None


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

    def dispatch(self, request, *args, **kwargs):
        """``verify`` is the hot path a backend calls for each request it serves: a well-formed
        call (a bearer credential, a JSON body that is exactly ``{"credential": "…"}``, JSON
        accepted) is answered here without DRF's request wrapping, negotiation, parsing and
        rendering, which cost more than the verification itself. Authentication, the permission
        check and the tenant scope are the very ones DRF would apply, and their refusals are
        rendered by the same handler; any other call takes the full DRF path, whose answers
        (400, 405, 406, 415 …) stay the only definition of those cases."""
        if request.method == "POST" and self.action_map.get("post") == "verify":
            credential = _plain_verify_credential(request)
            if credential is not None:
                return self._lean_verify(request, credential)
        return super().dispatch(request, *args, **kwargs)

    def _lean_verify(self, request, credential: str) -> HttpResponse:
        try:
            principal = _principal(self.get_authenticators(), request)
            check_admin_permission(principal, self.permission_map["verify"])
            self.action = "verify"  # what DRF's initialize_request would have set
            if self._global_for(principal):  # the base's tenancy rule, as ``initial`` applies it
                raise PermissionDenied("Organization-scoped credentials cannot use this resource")
        except APIException as exc:
            return response_for_exception(exc, request)
        result = verification.verify(credential, organization_id=principal.scope_organization_id)
        response = HttpResponse(orjson.dumps(represent(result)), content_type="application/json")
        for name, value in NO_STORE.items():
            response[name] = value
        response["Allow"] = "POST"
        return response

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
