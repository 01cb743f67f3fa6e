from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from organizations.models import User
from porta.api.serializers import iso_ms
from porta.api.viewsets import PortaViewSet
from recovery import services
from recovery.api.serializers import RecoveryCodeSerializer, RecoveryCreateSerializer, RecoveryLinkSerializer


class RecoveryViewSet(PortaViewSet):
    """Admin-issued account recovery (after Ory): a one-time link, or a code plus the page to enter it.

    The rows are users, so credentials scoped to one organization can recover only its users."""

    queryset = User.objects.all()
    organization_field = "organization_id"
    permission_map = {"link": "admin:user:update", "code": "admin:user:update"}
    serializer_class = RecoveryCreateSerializer
    not_found_message = "User not found"

    def scoped_queryset(self) -> QuerySet:
        return User.objects.select_related("organization")

    def _user(self, user_id) -> User:
        """The user the body names, within the caller's organization."""
        return self.scoped_row(
            User.objects.select_related("organization"),
            user_id,
            organization_field="organization_id",
            not_found=self.not_found_message,
        )

    @extend_schema(request=RecoveryCreateSerializer, responses={201: RecoveryLinkSerializer})
    @action(detail=False, methods=["post"])
    def link(self, request):
        """A one-time recovery link for a user, valid for `expiresIn` (default 1h). Opening it
        shows a page where the user sets a new password."""
        data = self.validated(RecoveryCreateSerializer)
        issued = services.recovery_link_create(
            actor=self.principal.actor, user=self._user(data["userId"]), expires_in=data.get("expiresIn")
        )
        body = {"recoveryLink": issued.link, "expiresAt": iso_ms(issued.token.expires_at)}
        return Response(body, status=http.HTTP_201_CREATED)

    @extend_schema(request=RecoveryCreateSerializer, responses={201: RecoveryCodeSerializer})
    @action(detail=False, methods=["post"])
    def code(self, request):
        """A one-time 8-digit recovery code plus the link of the page to enter it on, valid for
        `expiresIn` (default 1h)."""
        data = self.validated(RecoveryCreateSerializer)
        issued = services.recovery_code_create(
            actor=self.principal.actor, user=self._user(data["userId"]), expires_in=data.get("expiresIn")
        )
        body = {
            "recoveryCode": issued.code,
            "recoveryLink": issued.link,
            "expiresAt": iso_ms(issued.token.expires_at),
        }
        return Response(body, status=http.HTTP_201_CREATED)
