"""The one authentication module for the admin API: ``Authorization: Bearer <access token>``.

JWTs are verified with PyJWT directly over our own ``kid``-aware keyring (keys.tokens), not
djangorestframework-simplejwt: simplejwt holds a single signing key and cannot rotate keys by
``kid``, and its token model does not fit Porta's per-organization issuers.
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from keys.tokens import TokenInvalid, verify_access_token
from oidc.issuers import ADMIN_API_AUDIENCE_PATH, issuer_for
from organizations.models import OrganizationStatus, User, UserStatus
from porta.api.principal import Principal
from porta.ids import parse_uuid
from rbac.selectors import admin_authorization

logger = logging.getLogger("porta.auth")


def admin_api_audience() -> str:
    return settings.PORTA_PUBLIC_URL + ADMIN_API_AUDIENCE_PATH


def principal_from_access_token(token: str) -> Principal:
    try:
        claims = verify_access_token(token, issuer=None, audience=admin_api_audience())
    except TokenInvalid as exc:
        logger.info("Rejected access token: %s", exc)
        raise AuthenticationFailed("Invalid or expired token") from exc
    user_id = parse_uuid(claims.get("sub"))
    user = (
        User.objects.select_related("organization").filter(pk=user_id).first()
        if user_id is not None
        else None
    )
    if user is None or claims.get("iss") != issuer_for(user.organization.slug):
        raise AuthenticationFailed("Invalid or expired token")
    organization = user.organization
    if not organization.is_super_admin:
        # Only the super-admin organization's issuer speaks for the admin API.
        raise AuthenticationFailed("Token was not issued by the admin issuer")
    if user.status != UserStatus.ACTIVE or organization.status != OrganizationStatus.ACTIVE:
        raise AuthenticationFailed("User is not active")
    return Principal(
        user=user,
        organization_id=organization.id,
        is_admin_org_member=True,
        authorization=admin_authorization(user.id),
        credential="jwt",
        scope_organization_id=None,
        claims=claims,
    )


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthenticationFailed("Missing or invalid Authorization header")
        principal = principal_from_access_token(credential)
        return principal.user, principal

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="porta-admin"'
