"""authlib's OAuth 2.0 client against a real server process: after a code + PKCE sign-in it reads
userinfo, a resource server introspects the access token (RFC 7662), the client revokes its
refresh token (RFC 7009) and the login ends at once; RP-initiated logout sends the browser back
to the registered URI. Endpoint URLs come from the issuer's metadata."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings

from tests.oidc_flows import CLI_REDIRECT, PASSWORD, make_tenant

pytestmark = [pytest.mark.servers, pytest.mark.django_db(transaction=True)]

LOGGED_OUT = "http://127.0.0.1:8765/logged-out"


def _rebase(url: str, server) -> str:
    return server.base_url + url.removeprefix(settings.PORTA_PUBLIC_URL)


def _sign_in(browser: requests.Session, authorization_url: str, email: str) -> requests.Response:
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorization_url))
    return browser.post(
        origin + action,
        data={"csrfmiddlewaretoken": token, "action": "login", "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )


@pytest.fixture
def tenant(initialized):
    tenant = make_tenant("acme")
    tenant.cli.post_logout_redirect_uris = [LOGGED_OUT]
    tenant.cli.save(update_fields=["post_logout_redirect_uris"])
    return tenant


@pytest.fixture
def signed_in(porta_server, tenant):
    """(server, metadata, the CLI's OAuth2Session holding its tokens, the browser)."""
    server = porta_server()
    meta = requests.get(f"{server.base_url}/acme/.well-known/openid-configuration", timeout=10).json()
    oauth = OAuth2Session(
        "acme-cli", scope="openid profile email offline_access", redirect_uri=CLI_REDIRECT,
        code_challenge_method="S256", token_endpoint_auth_method="none",
    )  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    url, state = oauth.create_authorization_url(
        _rebase(meta["authorization_endpoint"], server), code_verifier=verifier
    )
    browser = requests.Session()
    callback = _sign_in(browser, url, tenant.user.email)
    oauth.fetch_token(
        _rebase(meta["token_endpoint"], server),
        authorization_response=callback.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    return server, meta, oauth, browser


def _resource_server(tenant) -> OAuth2Session:
    return OAuth2Session("acme-web", tenant.web_secret, token_endpoint_auth_method="client_secret_basic")


def test_authlibs_client_reads_userinfo_with_its_access_token(tenant, signed_in):
    server, meta, oauth, _browser = signed_in
    response = oauth.get(_rebase(meta["userinfo_endpoint"], server), timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == str(tenant.user.id)
    assert response.json()["email"] == tenant.user.email


def test_a_resource_server_introspects_the_access_token_with_authlib(tenant, signed_in):
    server, meta, oauth, _browser = signed_in
    response = _resource_server(tenant).introspect_token(
        _rebase(meta["introspection_endpoint"], server), token=oauth.token["access_token"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True
    assert response.json()["client_id"] == "acme-cli"


def test_revoking_the_refresh_token_with_authlib_ends_the_login(tenant, signed_in):
    server, meta, oauth, _browser = signed_in
    revoked = oauth.revoke_token(
        _rebase(meta["revocation_endpoint"], server),
        token=oauth.token["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200, revoked.text
    introspected = _resource_server(tenant).introspect_token(
        _rebase(meta["introspection_endpoint"], server), token=oauth.token["access_token"]
    )
    assert introspected.json() == {"active": False}
    assert oauth.get(_rebase(meta["userinfo_endpoint"], server), timeout=10).status_code == 401


def test_rp_initiated_logout_returns_the_browser_to_the_registered_uri(tenant, signed_in):
    server, meta, oauth, browser = signed_in
    response = browser.get(
        _rebase(meta["end_session_endpoint"], server),
        params={
            "id_token_hint": oauth.token["id_token"],
            "post_logout_redirect_uri": LOGGED_OUT,
            "state": "bye",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == f"{LOGGED_OUT}?state=bye"
    assert oauth.get(_rebase(meta["userinfo_endpoint"], server), timeout=10).status_code == 401
