"""RP-initiated logout: which login sessions a logout request ends, where the browser may go
afterwards, and the pages it sees (``templates/oidc/logout_*.html``, in the organization's
language and branding, as the login page).

The protocol checks are authlib's ``EndSessionEndpoint``; this module supplies what it leaves to
the server: the keys an ``id_token_hint`` must verify with (the keyring's JWKS, ES256 only) plus
the check that *this* organization issued it (the keyring is shared by every issuer, so a
signature alone does not say which), the registered ``post_logout_redirect_uris`` (exact match,
RFC 9700 §4.1.3 — no open redirect), and ending the sessions.
"""

from __future__ import annotations

import uuid

import jwt
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from applications.models import Client
from keys.keyring import keyring
from keys.tokens import ACCESS_TOKEN_TYPE
from oidc.issuers import issuer_for
from oidc.login import _branding, _page, current_login, pick_locale, session_key
from oidc.models import Session
from oidc.session_services import session_revoke
from organizations.models import Organization, User
from organizations.user_services import AUDITED as USER_AUDITED
from porta.core.context import Actor

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Sign out",
        "confirm_heading": "Sign out of {org}?",
        "confirm_text": "You are signed in as {email}.",
        "confirm": "Sign out",
        "signed_out_heading": "You are signed out",
        "signed_out_text": "You have been signed out of {org}. You can close this window.",
        "error_title": "Sign-out is not possible",
        "not_found": "This organization does not exist.",
        "suspended": "This organization is suspended.",
        "too_many": "Too many requests. Try again later.",
        "bad_request": "The application sent an invalid sign-out request.",
        "not_allowed": "This page only answers GET and POST.",
    },
    "de": {
        "title": "Abmelden",
        "confirm_heading": "Von {org} abmelden?",
        "confirm_text": "Sie sind als {email} angemeldet.",
        "confirm": "Abmelden",
        "signed_out_heading": "Sie sind abgemeldet",
        "signed_out_text": "Sie wurden von {org} abgemeldet. Sie können dieses Fenster schließen.",
        "error_title": "Abmelden nicht möglich",
        "not_found": "Diese Organisation existiert nicht.",
        "suspended": "Diese Organisation ist gesperrt.",
        "too_many": "Zu viele Anfragen. Bitte versuchen Sie es später erneut.",
        "bad_request": "Die Anwendung hat eine ungültige Abmeldeanfrage gesendet.",
        "not_allowed": "Diese Seite beantwortet nur GET und POST.",
    },
}
_STATUS_MESSAGE = {
    400: "bad_request",
    403: "suspended",
    404: "not_found",
    405: "not_allowed",
    429: "too_many",
}
#: The request parameters the confirmation form carries back.
CARRIED = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint")


def locale_for(organization: Organization | None, ui_locales: str | None) -> str:
    locale = pick_locale(organization, ui_locales)
    return locale if locale in MESSAGES else "en"


def _text(locale: str, **values: str) -> dict[str, str]:
    return {key: template.format(**values) for key, template in MESSAGES[locale].items()}


# -- what a logout ends ---------------------------------------------------------------------------


@transaction.atomic
def logout_sessions(*, user: User, sessions: list[Session], client: Client | None, channel: str) -> int:
    """End ``sessions`` of ``user`` (each with its refresh tokens; access tokens carrying their
    ``sid`` stop on the next check) and record the logout once on the user. The number ended;
    sessions already ended are left as they are."""
    actor = Actor(type="user", id=user.id, label=user.email)
    ended = []
    unique = {session.pk: session for session in sessions if session.user_id == user.id}
    for session in unique.values():
        if session.revoked_at is None:
            session_revoke(actor=actor, session=session)
            ended.append(str(session.id))
    USER_AUDITED.record(
        "user.logout",
        actor=actor,
        row=user,
        metadata={
            "channel": channel,
            "clientId": client.client_id if client else None,
            "sessionIds": ended,
        },
    )
    return len(ended)


def _user(organization: Organization, subject) -> User | None:
    try:
        user_id = uuid.UUID(str(subject))
    except ValueError:
        return None
    return User.objects.filter(pk=user_id, organization=organization).first()


def _hinted_session(organization: Organization, claims: dict) -> Session | None:
    try:
        session_id, user_id = uuid.UUID(str(claims.get("sid"))), uuid.UUID(str(claims.get("sub")))
    except ValueError:
        return None
    return (
        Session.objects.select_related("user")
        .filter(pk=session_id, user_id=user_id, organization=organization)
        .first()
    )


def _single_sign_on_sessions(organization: Organization, user: User, ids) -> list[Session]:
    """The sessions this browser's login started for other clients (``oidc.login``)."""
    wanted = []
    for value in ids if isinstance(ids, list) else []:
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return list(Session.objects.filter(pk__in=wanted, user=user, organization=organization).order_by("pk"))


class PortaEndSession(EndSessionEndpoint):
    """authlib's RP-initiated logout bound to one organization's issuer and browser login."""

    def get_server_jwks(self) -> dict:
        return keyring().jwks

    def get_algorithms(self) -> list[str]:
        return ["ES256"]

    def _validate_id_token_hint(self, id_token_hint: str) -> dict:
        try:
            token_type = jwt.get_unverified_header(id_token_hint).get("typ")
        except jwt.PyJWTError as exc:
            raise InvalidRequestError("The id_token_hint is not a JWT") from exc
        if token_type == ACCESS_TOKEN_TYPE:
            raise InvalidRequestError("The id_token_hint is an access token, not an ID token")
        claims = super()._validate_id_token_hint(id_token_hint)
        if claims.get("iss") != issuer_for(self.server.organization.slug):
            raise InvalidRequestError("The id_token_hint was not issued by this organization")
        if not claims.get("sub") or not claims.get("aud"):
            raise InvalidRequestError("The id_token_hint is not an ID token")
        return claims

    def _is_valid_post_logout_redirect_uri(self, client, post_logout_redirect_uri: str) -> bool:
        return post_logout_redirect_uri in client.model.post_logout_redirect_uris

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri, client, logout_hint):
        """Without an ``id_token_hint``, the person's confirmation on our own (CSRF-protected)
        page is what makes the registered URI of the named client a legitimate destination."""
        return bool(getattr(request, "porta_confirmed", False))

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """End the session the hint names and the browser's login at this organization when it
        is the same person's (or when there is no hint), then forget that login."""
        request = end_session_request.request
        organization = self.server.organization
        claims = end_session_request.id_token_claims
        client = end_session_request.client.model if end_session_request.client else None
        hinted = _hinted_session(organization, claims) if claims else None
        login = current_login(request.django, organization)
        if claims:
            user = hinted.user if hinted else _user(organization, claims.get("sub"))
        else:
            user = login[0] if login else None
        sessions = [hinted] if hinted else []
        if login is not None and login[0].id == (user.id if user else None):
            remembered = request.django.session.pop(session_key(organization), None) or {}
            sessions += [login[1], *_single_sign_on_sessions(organization, user, remembered.get("sso"))]
        if user is not None:
            logout_sessions(user=user, sessions=sessions, client=client, channel="end_session")


# -- pages ----------------------------------------------------------------------------------------


def error_page(
    request: HttpRequest,
    organization: Organization | None,
    status: int,
    *,
    detail: str | None = None,
    locale: str | None = None,
) -> HttpResponse:
    locale = locale or locale_for(organization, request.GET.get("ui_locales"))
    text = _text(locale, org=organization.name if organization else "", email="")
    message = text[_STATUS_MESSAGE.get(status, "bad_request")]
    if detail:
        message = f"{message} ({detail})"
    context = {
        "text": text,
        "message": message,
        "locale": locale,
        "brand": _branding(organization) if organization else None,
    }
    return _page(request, "oidc/error.html", context, status)


def confirm_page(
    request: HttpRequest, organization: Organization, locale: str, validated: EndSessionRequest
) -> HttpResponse:
    user, _session = current_login(request, organization)
    params = validated.request.payload.data
    context = {
        "text": _text(locale, org=organization.name, email=user.email),
        "locale": locale,
        "brand": _branding(organization),
        "action": request.path,
        "carried": [(name, params[name]) for name in CARRIED if params.get(name)],
    }
    return _page(request, "oidc/logout_confirm.html", context)


def signed_out_page(request: HttpRequest, organization: Organization, locale: str) -> HttpResponse:
    context = {
        "text": _text(locale, org=organization.name, email=""),
        "locale": locale,
        "brand": _branding(organization),
    }
    return _page(request, "oidc/logout_done.html", context)
