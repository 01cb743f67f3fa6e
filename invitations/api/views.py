"""Inviting users: ``/organizations/{orgId}/users/invite`` and ``…/users/invite/preview``.

Registered by invitations itself (invitations/api/urls.py) under the organization's users; the
organization in the path is resolved, and scoped, by the base viewset before any action runs.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from courier.templates import render_message
from invitations import services
from invitations.api.serializers import InvitePreviewSerializer, InviteResultSerializer, InviteSerializer
from organizations.models import Organization, User
from porta.api.serializers import iso_ms
from porta.api.viewsets import PathParent, PortaViewSet


class OrganizationInvitationViewSet(PortaViewSet):
    queryset = User.objects.all()
    organization_field = "organization_id"
    serializer_class = InviteSerializer
    not_found_message = "User not found"
    parent = PathParent(
        kwarg="organization_id",
        field="organization",
        not_found="Organization not found",
        organization_field="id",
    )
    permission_map = {
        "invite": "admin:user:invite",
        "invite_preview": "admin:user:invite",
    }

    def organization(self) -> Organization:
        return self.path_parent()

    @extend_schema(
        request=InviteSerializer, responses={200: InviteResultSerializer, 201: InviteResultSerializer}
    )
    @action(detail=False, methods=["post"])
    def invite(self, request, organization_id=None):
        """Creates the user if missing (201; 200 for an existing user), invalidates earlier
        invitation tokens and e-mails a token valid for 7 days. ``roles`` and ``claims`` are
        checked now (unknown → 400, an admin role the caller could not grant → 403) and applied
        when the invitee accepts at ``/{orgSlug}/auth/accept-invite/{token}``."""
        organization = self.organization()
        data = self.validated(InviteSerializer)
        granted = services.pre_assignments(
            authorization=self.principal.authorization,
            roles=data.pop("roles", []),
            claims=data.pop("claims", []),
        )
        user, created, invitation = services.user_invite(
            actor=self.principal.actor,
            organization=organization,
            pre_assignments=granted,
            **data,
        )
        body = {
            "userId": str(user.id),
            "email": user.email,
            "created": created,
            "invitationSent": True,
            "expiresAt": iso_ms(invitation.expires_at),
        }
        return Response(body, status=http.HTTP_201_CREATED if created else http.HTTP_200_OK)

    @extend_schema(request=InviteSerializer, responses=InvitePreviewSerializer)
    @action(detail=False, methods=["post"], url_path="invite/preview")
    def invite_preview(self, request, organization_id=None):
        """Renders the invitation e-mail without sending it or creating anything."""
        organization = self.organization()
        data = self.validated(InviteSerializer)
        context = services.invitation_context(
            organization, data["email"], "PREVIEW-TOKEN", personal_message=data.get("personal_message")
        )
        subject, text, html = render_message("invitation", context)
        return Response({"subject": subject, "text": text, "html": html})
