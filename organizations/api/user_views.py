from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.api.serializers import AuditEntrySerializer
from audit.api.views import history_response
from organizations import user_services as services
from organizations.api.serializers import ReasonSerializer
from organizations.api.user_export import user_export
from organizations.api.user_serializers import (
    BatchItemValidator,
    BatchResultSerializer,
    BatchSerializer,
    PasswordSerializer,
    PurgeSerializer,
    RequiredReasonSerializer,
    UserCreateSerializer,
    UserExportSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from organizations.models import Organization, User
from organizations.user_filtersets import UserFilterSet
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathParent, PortaViewSet
from porta.core.errors import BadRequest, ValidationFailed

BATCH_MAX = 1000
BATCH_MAX_WITH_PASSWORDS = 200

_SORT_FIELDS = {"createdAt": "created_at", "updatedAt": "updated_at", "email": "email"}
_SINGLE_USER_PERMISSIONS = {
    "retrieve": "admin:user:read",
    "update": "admin:user:update",
    "deactivate": "admin:user:suspend",
    "reactivate": "admin:user:suspend",
    "suspend": "admin:user:suspend",
    "unsuspend": "admin:user:suspend",
    "lock": "admin:user:suspend",
    "unlock": "admin:user:suspend",
    "password": "admin:user:update",
    "clear_password": "admin:user:update",
    "verify_email": "admin:user:update",
    "export": "admin:user:read",
    "purge": "admin:user:archive",
    "history": "admin:user:read",
}
_PURGE_RESULT = inline_serializer(
    "UserPurgeResult", fields={"id": serializers.UUIDField(), "purged": serializers.BooleanField()}
)
_CONFIRM_PURGE = OpenApiParameter(
    "X-Confirm-Purge", OpenApiTypes.STR, OpenApiParameter.HEADER, description="`true` confirms the purge"
)


class _SingleUserActions(PortaViewSet):
    """The operations on one user, shared by ``/organizations/{orgId}/users/{id}`` and
    ``/users/{id}``. Users are organization-scoped."""

    queryset = User.objects.all()
    organization_field = "organization_id"
    sort_fields = _SORT_FIELDS
    filterset_class = UserFilterSet
    output_serializer_class = UserSerializer
    serializer_class = UserSerializer
    not_found_message = "User not found"

    def user(self) -> User:
        return self.get_object()

    @extend_schema(responses=UserSerializer)
    def retrieve(self, request, pk=None, **kwargs: Any):
        return self.detail_response(self.user())

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def update(self, request, pk=None, **kwargs: Any):
        user = self.user()
        data = self.validated(UserUpdateSerializer)
        user = services.user_update(actor=self.principal.actor, user=user, precondition=self.if_match, **data)
        return self.detail_response(user)

    def _transition(self, action_name: str, serializer_class=ReasonSerializer) -> Response:
        user = self.user()
        data = self.validated(serializer_class)
        user = services.user_transition(
            actor=self.principal.actor,
            user=user,
            action=action_name,
            reason=data.get("reason"),
            precondition=self.if_match,
        )
        return self.detail_response(user)

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None, **kwargs: Any):
        return self._transition("deactivate")

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None, **kwargs: Any):
        return self._transition("reactivate")

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None, **kwargs: Any):
        return self._transition("suspend")

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def unsuspend(self, request, pk=None, **kwargs: Any):
        return self._transition("unsuspend")

    @extend_schema(request=RequiredReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request, pk=None, **kwargs: Any):
        return self._transition("lock", RequiredReasonSerializer)

    @extend_schema(request=ReasonSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None, **kwargs: Any):
        return self._transition("unlock")

    @extend_schema(request=PasswordSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def password(self, request, pk=None, **kwargs: Any):
        user = self.user()
        data = self.validated(PasswordSerializer)
        services.user_set_password(actor=self.principal.actor, user=user, password=data["password"])
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @password.mapping.delete
    def clear_password(self, request, pk=None, **kwargs: Any):
        user = self.user()
        services.user_clear_password(actor=self.principal.actor, user=user)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"], url_path="verify-email")
    def verify_email(self, request, pk=None, **kwargs: Any):
        user = self.user()
        user = services.user_verify_email(actor=self.principal.actor, user=user, precondition=self.if_match)
        return self.detail_response(user)

    @extend_schema(responses=UserExportSerializer)
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None, **kwargs: Any):
        """GDPR export: profile, organization, roles, audit entries about the user. Claim values
        and sessions are empty lists until Porta stores them."""
        user = self.user()
        services.user_export_recorded(actor=self.principal.actor, user=user)
        return Response(user_export(user))

    @extend_schema(
        request=PurgeSerializer,
        parameters=[_CONFIRM_PURGE],
        responses=_PURGE_RESULT,
    )
    @action(detail=True, methods=["post"])
    def purge(self, request, pk=None, **kwargs: Any):
        user = self.user()
        data = self.validated(PurgeSerializer)
        confirmed = request.META.get("HTTP_X_CONFIRM_PURGE", "").lower() == "true" or data.get("confirmPurge")
        if not confirmed:
            raise BadRequest(
                "Purging a user requires the header X-Confirm-Purge: true or confirmPurge: true",
                details={"confirmPurge": ["Required to purge."]},
            )
        user = services.user_purge(actor=self.principal.actor, user=user, precondition=self.if_match)
        return Response({"id": str(user.pk), "purged": True})

    @extend_schema(parameters=list_parameters(), responses=collection(AuditEntrySerializer))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None, **kwargs: Any):
        user = self.user()
        return history_response(self, "user", user.id)


class UserViewSet(_SingleUserActions):
    """A user addressed without its organization (``/users/{id}``)."""

    permission_map = dict(_SINGLE_USER_PERMISSIONS)


class OrganizationUserViewSet(_SingleUserActions):
    """Users of one organization (``/organizations/{orgId}/users``, the organization by id or
    slug; the base viewset resolves it, and scopes it, before any action runs)."""

    parent = PathParent(
        kwarg="organization_id",
        field="organization",
        not_found="Organization not found",
        organization_field="id",
    )

    permission_map = {
        "list": "admin:user:read",
        "create": "admin:user:create",
        "batch": "admin:user:create",
        **_SINGLE_USER_PERMISSIONS,
    }

    def organization(self) -> Organization:
        return self.path_parent()

    @extend_schema(parameters=list_parameters(UserFilterSet), responses=collection(UserSerializer))
    def list(self, request, organization_id=None):
        return self.list_response()

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request, organization_id=None):
        organization = self.organization()
        data = self.validated(UserCreateSerializer)
        user = services.user_create(actor=self.principal.actor, organization=organization, **data)
        return self.created_response(user, f"/api/admin/organizations/{organization.id}/users/{user.id}")

    @extend_schema(request=BatchSerializer, responses=BatchResultSerializer)
    @action(detail=False, methods=["post"])
    def batch(self, request, organization_id=None):
        """Up to 1 000 users per call (200 when any item carries a plaintext password). Valid
        items are created even when others fail; each gets ``{index, id}`` or ``{index, error}``."""
        organization = self.organization()
        raw_items = _batch_items(request.data) or self.validated(BatchSerializer)["users"]
        if len(raw_items) > BATCH_MAX_WITH_PASSWORDS and any("password" in item for item in raw_items):
            raise ValidationFailed(
                f"At most {BATCH_MAX_WITH_PASSWORDS} users per batch when any carries a plaintext password",
                details={"users": [f"At most {BATCH_MAX_WITH_PASSWORDS} items with plaintext passwords."]},
            )
        # One serializer validates every item (as DRF's ListSerializer does), with its fields bound
        # once; the common items skip DRF's machinery (see BatchItemValidator).
        validator = BatchItemValidator(UserCreateSerializer(context=self.get_serializer_context()))
        items: list[dict[str, Any]] = []
        for raw in raw_items:
            try:
                items.append(validator.validate(raw))
            except serializers.ValidationError as exc:
                details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
                details = {k: [str(m) for m in v] if isinstance(v, list) else v for k, v in details.items()}
                items.append(
                    {"_error": {"error": "ValidationError", "message": "Invalid user", "statusCode": 400,
                                "details": details}}
                )  # fmt: skip
        results = services.user_batch_create(
            actor=self.principal.actor, organization=organization, items=items
        )
        return Response({"results": results})


def _batch_items(data: Any) -> list[dict] | None:
    """The items of a well-formed batch body as ``BatchSerializer`` would give them (None for
    any other body: the serializer then words the 400)."""
    if not (isinstance(data, dict) and len(data) == 1 and isinstance(users := data.get("users"), list)):
        return None
    if not 1 <= len(users) <= BATCH_MAX or not all(type(item) is dict for item in users):
        return None
    return users
