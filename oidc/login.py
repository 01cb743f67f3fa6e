"""``/<orgSlug>/auth/authorize``: the login page (and consent), then a code for the client.

The authorization request is checked by authlib (client, exact redirect URI, response type,
scope, PKCE) before anything is shown, and checked again when the form comes back; an error is
sent to the client's redirect URI only once that URI has been validated, otherwise it is shown
on a page — never an open redirect. The page is a Django template (``templates/oidc/``),
CSRF-protected, branded with the organization's branding and written in its ``defaultLocale``
(``ui_locales`` may pick another supported language). Passwords go through the one login service
(throttles per IP and per account, lockout, audit). A login starts an ``oidc.Session`` and the
browser remembers it (Django session key ``SESSION_KEY``) so the next authorization in the same
organization needs no password until that session ends (``prompt=login`` asks again).

Consent is asked when the client requests it with ``prompt=consent``.
"""

from __future__ import annotations

import re

from authlib.oauth2 import OAuth2Error
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from applications.selectors.clients import effective_login_methods
from oidc import services
from oidc.errors import OAuthError
from oidc.models import Session
from oidc.provider import client_ip, server_for, throttle
from organizations import login_services
from organizations.models import Organization, User, UserStatus

#: Where a check at this page comes from, as metrics and audit entries name it.
LOGIN_PAGE = "login_page"


def session_key(organization: Organization) -> str:
    """The browser session's key holding its login at ``organization``:
    ``{"sid": <oidc Session id>, "uid": <user id>}``. end-session removes it."""
    return f"porta.oidc.login.{organization.id}"


# -- localization ---------------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Sign in",
        "heading": "Sign in to {org}",
        "subheading": "to continue to {client}",
        "email": "Email",
        "password": "Password",
        "submit": "Sign in",
        "invalid": "Invalid email or password.",
        "locked": "This account is locked.",
        "inactive": "This account is not active.",
        "throttled": "Too many failed attempts. Try again later.",
        "missing": "Enter your email and password.",
        "no_password": "This application does not offer sign-in with a password.",
        "consent_title": "Allow access",
        "consent_heading": "{client} wants to access your {org} account",
        "consent_scopes": "It asks for:",
        "allow": "Allow",
        "deny": "Deny",
        "signed_in_as": "Signed in as {email}",
        "error_title": "Sign-in is not possible",
        "not_found": "This organization does not exist.",
        "suspended": "This organization is suspended.",
        "too_many": "Too many requests. Try again later.",
        "bad_request": "The application sent an invalid sign-in request.",
    },
    "de": {
        "title": "Anmelden",
        "heading": "Bei {org} anmelden",
        "subheading": "um mit {client} fortzufahren",
        "email": "E-Mail",
        "password": "Passwort",
        "submit": "Anmelden",
        "invalid": "E-Mail oder Passwort ist falsch.",
        "locked": "Dieses Konto ist gesperrt.",
        "inactive": "Dieses Konto ist nicht aktiv.",
        "throttled": "Zu viele Fehlversuche. Bitte versuchen Sie es später erneut.",
        "missing": "Bitte geben Sie E-Mail und Passwort ein.",
        "no_password": "Diese Anwendung bietet keine Anmeldung mit Passwort an.",
        "consent_title": "Zugriff erlauben",
        "consent_heading": "{client} möchte auf Ihr {org}-Konto zugreifen",
        "consent_scopes": "Angefragt wird:",
        "allow": "Erlauben",
        "deny": "Ablehnen",
        "signed_in_as": "Angemeldet als {email}",
        "error_title": "Anmeldung nicht möglich",
        "not_found": "Diese Organisation existiert nicht.",
        "suspended": "Diese Organisation ist gesperrt.",
        "too_many": "Zu viele Anfragen. Bitte versuchen Sie es später erneut.",
        "bad_request": "Die Anwendung hat eine ungültige Anmeldeanfrage gesendet.",
    },
}
SUPPORTED_LOCALES = tuple(MESSAGES)


def pick_locale(organization: Organization | None, ui_locales: str | None) -> str:
    """The first supported language of ``ui_locales``, else the organization's default, else en."""
    for tag in [*(ui_locales or "").split(), (organization.default_locale if organization else "") or ""]:
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in MESSAGES:
            return primary
    return "en"


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _text(locale: str, **values: str) -> dict[str, str]:
    """The page's strings in ``locale``, with the organization, client… filled in."""
    fill = _Values(values)
    return {key: template.format_map(fill) for key, template in MESSAGES[locale].items()}


_COLOR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


def _branding(organization: Organization) -> dict:
    color = organization.branding_primary_color or ""
    return {
        "company": organization.branding_company_name or organization.name,
        "logo_url": organization.branding_logo_url or "",
        "favicon_url": organization.branding_favicon_url or "",
        "primary_color": color if _COLOR.fullmatch(color) else "#2f5bea",
        # Inside <style>: nothing that could close the element or open markup.
        "custom_css": (organization.branding_custom_css or "").replace("<", ""),
    }


# -- pages ----------------------------------------------------------------------------------------


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    # No form-action: browsers apply it to the redirect that follows the form too, and that
    # goes to the client (a validated redirect URI), not to us.
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    # Not no-referrer: browsers then send "Origin: null" with the form, which fails CSRF.
    response["Referrer-Policy"] = "same-origin"
    return response


def _error_page(request, organization, locale: str, message: str, status: int) -> HttpResponse:
    context = {
        "text": _text(locale, org=organization.name if organization else "", client=""),
        "message": message,
        "locale": locale,
        "brand": _branding(organization) if organization else None,
    }
    return _page(request, "oidc/error.html", context, status)


def _login_page(
    request, organization, client, locale, *, error: str = "", email: str = "", status: int = 200
):
    text = _text(locale, org=organization.name, client=client.client_name)
    context = {
        "text": text,
        "locale": locale,
        "brand": _branding(organization),
        "client_name": client.client_name,
        "action": request.get_full_path(),
        "error": text[error] if error else "",
        "email": email,
        "password_allowed": "password" in effective_login_methods(client),
    }
    return _page(request, "oidc/login.html", context, status)


def _consent_page(request, organization, client, locale, user: User, scope: str):
    text = _text(locale, org=organization.name, client=client.client_name, email=user.email)
    context = {
        "text": text,
        "locale": locale,
        "brand": _branding(organization),
        "client_name": client.client_name,
        "action": request.get_full_path(),
        "scopes": scope.split(),
    }
    return _page(request, "oidc/consent.html", context)


# -- the browser's login --------------------------------------------------------------------------


def current_login(request: HttpRequest, organization: Organization) -> tuple[User, Session] | None:
    """The user this browser is signed in as at ``organization``, while that login's session is
    active and the user may still sign in."""
    remembered = request.session.get(session_key(organization))
    if not remembered:
        return None
    session = (
        Session.objects.select_related("user")
        .filter(pk=remembered.get("sid"), organization=organization, user_id=remembered.get("uid"))
        .first()
    )
    if session is None or not session.active or session.user.status != UserStatus.ACTIVE:
        request.session.pop(session_key(organization), None)
        return None
    return session.user, session


def _remember(request: HttpRequest, organization: Organization, user: User, session: Session) -> None:
    request.session.cycle_key()  # a new session id at login: no fixation
    request.session[session_key(organization)] = {"sid": str(session.id), "uid": str(user.id)}


# -- the endpoint ---------------------------------------------------------------------------------


def _organization(org_slug: str) -> tuple[Organization | None, int]:
    organization = Organization.objects.filter(slug=org_slug).first()
    try:
        services.token_organization(org_slug)
    except OAuthError as error:
        return organization, error.status
    return organization, 200


@never_cache
@csrf_exempt  # the middleware would refuse a PUT before this view answers 405; _authorize checks
def authorize(request: HttpRequest, org_slug: str) -> HttpResponse:
    """GET shows the login (or consent) page or, for a signed-in browser, answers at once; POST
    is the page's form (CSRF-checked). Either way the client's request is the query string."""
    if request.method not in ("GET", "POST"):
        organization, status = _organization(org_slug)
        locale = pick_locale(organization if status == 200 else None, None)
        response = _error_page(request, None, locale, MESSAGES[locale]["bad_request"], 405)
        response["Allow"] = "GET, POST"
        return response
    return _authorize(request, org_slug)


@csrf_protect
def _authorize(request: HttpRequest, org_slug: str) -> HttpResponse:
    ui_locales = request.GET.get("ui_locales")
    organization, status = _organization(org_slug)
    if status != 200:
        locale = pick_locale(organization if status == 403 else None, ui_locales)
        key = "suspended" if status == 403 else "not_found"
        return _error_page(
            request, organization if status == 403 else None, locale, MESSAGES[locale][key], status
        )
    locale = pick_locale(organization, ui_locales)
    if any("\x00" in value for values in request.GET.lists() for value in values[1]):
        return _error_page(request, organization, locale, MESSAGES[locale]["bad_request"], 400)
    limited = throttle(request, organization, endpoint="authorize")
    if limited is not None:
        response = _error_page(request, organization, locale, MESSAGES[locale]["too_many"], 429)
        response["Retry-After"] = limited.headers["Retry-After"]
        return response

    server = server_for(organization)
    oauth_request = server.authorization_request(request)
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        if error.redirect_uri:  # validated against the client's registration: safe to go back
            return server.handle_error_response(oauth_request, error)
        message = f"{MESSAGES[locale]['bad_request']} ({error.description or error.error})"
        return _error_page(request, organization, locale, message, 400)
    client = oauth_request.client.model
    prompt = set((oauth_request.payload.data.get("prompt") or "").split())
    action = request.POST.get("action", "") if request.method == "POST" else ""

    if action == "login":
        return _login_submit(request, server, grant, oauth_request, organization, client, locale, prompt)

    login = current_login(request, organization)
    if action in ("allow", "deny") and login is not None:
        user, session = login
        if action == "deny":
            return server.create_authorization_response(oauth_request, grant_user=None, grant=grant)
        return _issue_code(request, server, grant, oauth_request, organization, client, user, session)

    if login is None or "login" in prompt or _too_old(login[1], oauth_request.payload.data.get("max_age")):
        if "none" in prompt:
            return _redirect_error(
                server, grant, oauth_request, "login_required", "The user is not signed in"
            )
        hint = (oauth_request.payload.data.get("login_hint") or "")[:255]
        return _login_page(request, organization, client, locale, email=hint)
    user, session = login
    if "consent" in prompt:
        if "none" in prompt:
            return _redirect_error(server, grant, oauth_request, "consent_required", "Consent is required")
        return _consent_page(request, organization, client, locale, user, oauth_request.scope)
    return _issue_code(request, server, grant, oauth_request, organization, client, user, session)


def _too_old(session: Session, max_age: str | None) -> bool:
    """OIDC Core §3.1.2.1 ``max_age``: the login is older than the client accepts."""
    if not max_age or not max_age.isdigit():
        return False
    return (timezone.now() - session.created_at).total_seconds() > int(max_age)


def _redirect_error(server, grant, oauth_request, error: str, description: str) -> HttpResponse:
    failure = OAuth2Error(
        description, state=oauth_request.payload.state, redirect_uri=grant.redirect_uri, error=error
    )
    return server.handle_error_response(oauth_request, failure)


def _login_submit(
    request, server, grant, oauth_request, organization, client, locale, prompt
) -> HttpResponse:
    email = request.POST.get("email", "").strip()[:255]
    password = request.POST.get("password", "")
    if "password" not in effective_login_methods(client):
        return _login_page(request, organization, client, locale, error="no_password", status=400)
    if not email or not password or "\x00" in email + password:
        return _login_page(request, organization, client, locale, error="missing", email=email, status=400)
    try:
        user = login_services.password_login(
            organization=organization,
            email=email,
            password=password,
            channel=LOGIN_PAGE,
            ip=client_ip(request),
        )
    except login_services.LoginThrottled as refused:
        response = _login_page(
            request, organization, client, locale, error="throttled", email=email, status=429
        )
        response["Retry-After"] = str(refused.retry_after)
        return response
    except login_services.AccountLocked:
        return _login_page(request, organization, client, locale, error="locked", email=email, status=400)
    except login_services.AccountInactive:
        return _login_page(request, organization, client, locale, error="inactive", email=email, status=400)
    except login_services.LoginRefused:
        return _login_page(request, organization, client, locale, error="invalid", email=email, status=400)
    session = services.login_session(
        user=user, client=client, organization=organization, ip=client_ip(request)
    )
    _remember(request, organization, user, session)
    if "consent" in prompt:
        return _consent_page(request, organization, client, locale, user, oauth_request.scope)
    return _issue_code(request, server, grant, oauth_request, organization, client, user, session)


def _issue_code(request, server, grant, oauth_request, organization, client, user, session) -> HttpResponse:
    """Redirect to the client with a code bound to a session of this client: the login's own, or
    (single sign-on from another client's login) a new one."""
    auth_time = session.created_at
    if session.client_id != client.id:
        session = services.login_session(
            user=user, client=client, organization=organization, ip=client_ip(request)
        )
    oauth_request.porta_session = session
    oauth_request.porta_auth_time = auth_time
    return server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
