"""A real third-party client against a real server process: authlib's OAuth 2.0 client performs
authorization code + PKCE (the login form posted as a browser posts it) and client credentials,
PyJWT verifies the tokens through the published JWKS, and the CLI's login flow runs end to end
against the admin issuer (metadata → authorize on a loopback redirect → code → token → admin call).

The server's PORTA_PUBLIC_URL is the suite's ``http://testserver``; the client reaches it at
``base_url``, as it would reach a server behind a proxy: URLs from metadata are rebased."""

from __future__ import annotations

import http.server
import re
import secrets
import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings

from oidc.models import RefreshToken, Session
from testing.servers import free_port
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.oidc_flows import CLI_REDIRECT, PASSWORD, make_tenant

pytestmark = [pytest.mark.servers, pytest.mark.django_db(transaction=True)]


def _rebase(url: str, server) -> str:
    return server.base_url + url.removeprefix(settings.PORTA_PUBLIC_URL)


def _metadata(server, slug: str) -> dict:
    response = requests.get(f"{server.base_url}/{slug}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _sign_in(authorization_url: str, email: str, password: str, *, follow: bool = False) -> requests.Response:
    """What a browser does: open the login page, fill in the form, submit it."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorization_url))
    return browser.post(
        origin + action,
        data={"csrfmiddlewaretoken": token, "action": "login", "email": email, "password": password},
        allow_redirects=follow,
        timeout=10,
    )


def _verify(token: str, server, meta: dict, audience: str) -> dict:
    jwks = jwt.PyJWKClient(_rebase(meta["jwks_uri"], server))
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["ES256"], audience=audience, issuer=meta["issuer"])


@pytest.fixture
def tenant(initialized):
    return make_tenant("acme")


def test_authlibs_client_signs_a_user_in_with_code_and_pkce_and_pyjwt_verifies_the_id_token(
    porta_server, tenant
):
    server = porta_server()
    meta = _metadata(server, "acme")
    oauth = OAuth2Session(
        "acme-cli",
        scope="openid profile",
        redirect_uri=CLI_REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(
        _rebase(meta["authorization_endpoint"], server), code_verifier=verifier, nonce=nonce
    )
    callback = _sign_in(url, tenant.user.email, PASSWORD)
    assert callback.status_code == 302
    assert callback.headers["Location"].startswith(CLI_REDIRECT)
    token = oauth.fetch_token(
        _rebase(meta["token_endpoint"], server),
        authorization_response=callback.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    claims = _verify(token["id_token"], server, meta, audience="acme-cli")
    assert claims["sub"] == str(tenant.user.id)
    assert claims["nonce"] == nonce
    access = _verify(token["access_token"], server, meta, audience="acme-cli")
    assert access["sid"] == claims["sid"]


def test_authlibs_client_refreshes_the_tokens_it_got_from_a_code(porta_server, tenant):
    server = porta_server()
    meta = _metadata(server, "acme")
    oauth = OAuth2Session(
        "acme-cli", scope="openid offline_access", redirect_uri=CLI_REDIRECT, code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    url, state = oauth.create_authorization_url(
        _rebase(meta["authorization_endpoint"], server), code_verifier=verifier
    )
    callback = _sign_in(url, tenant.user.email, PASSWORD)
    token_url = _rebase(meta["token_endpoint"], server)
    first = oauth.fetch_token(
        token_url, authorization_response=callback.headers["Location"], code_verifier=verifier, state=state
    )
    second = oauth.refresh_token(token_url, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    _verify(second["access_token"], server, meta, audience="acme-cli")


def test_authlibs_client_gets_a_client_credentials_token_that_verifies_through_the_jwks(porta_server, tenant):
    server = porta_server()
    meta = _metadata(server, "acme")
    oauth = OAuth2Session("acme-web", tenant.web_secret, token_endpoint_auth_method="client_secret_basic")
    token = oauth.fetch_token(_rebase(meta["token_endpoint"], server), grant_type="client_credentials")
    claims = _verify(token["access_token"], server, meta, audience="acme-web")
    assert claims["sub"] == "acme-web"
    assert claims["org_id"] == str(tenant.organization.id)


def test_authlibs_client_authenticates_with_client_secret_post_too(porta_server, tenant):
    tenant.web.token_endpoint_auth_method = "client_secret_post"
    tenant.web.save(update_fields=["token_endpoint_auth_method"])
    server = porta_server()
    oauth = OAuth2Session("acme-web", tenant.web_secret, token_endpoint_auth_method="client_secret_post")
    token = oauth.fetch_token(f"{server.base_url}/acme/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"


class _Callback(http.server.BaseHTTPRequestHandler):
    """The CLI's loopback listener: remembers the query it was called back with."""

    received: dict[str, str] = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        _Callback.received = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"You can close this window.")

    def log_message(self, *args):
        return None


def test_the_cli_login_flow_works_against_the_admin_issuer(porta_server, initialized):
    server = porta_server()
    admin = requests.get(f"{server.base_url}/api/admin/metadata", timeout=10).json()
    port = free_port()
    listener = http.server.HTTPServer(("127.0.0.1", port), _Callback)
    thread = threading.Thread(target=listener.handle_request, daemon=True)
    thread.start()
    try:
        redirect_uri = f"http://127.0.0.1:{port}/callback"  # registered as :8765; RFC 8252 allows any port
        oauth = OAuth2Session(
            admin["clientId"], scope="openid profile email offline_access", redirect_uri=redirect_uri,
            code_challenge_method="S256", token_endpoint_auth_method="none",
        )  # fmt: skip
        verifier = secrets.token_urlsafe(48)
        url, state = oauth.create_authorization_url(
            _rebase(admin["authorization_endpoint"], server), code_verifier=verifier
        )
        landed = _sign_in(url, ADMIN_EMAIL, ADMIN_PASSWORD, follow=True)
        assert landed.status_code == 200
        assert landed.text == "You can close this window."
    finally:
        thread.join(timeout=10)
        listener.server_close()
    received = _Callback.received
    assert received["state"] == state
    token = oauth.fetch_token(
        _rebase(admin["token_endpoint"], server), code=received["code"], code_verifier=verifier
    )
    organizations = requests.get(
        f"{server.base_url}/api/admin/organizations",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert organizations.status_code == 200, organizations.text
    assert any(org["slug"] == admin["orgSlug"] for org in organizations.json()["data"])


def test_a_code_redeemed_concurrently_gives_tokens_at_most_once_and_the_replay_revokes_the_login(
    porta_server, tenant
):
    from concurrent.futures import ThreadPoolExecutor

    from django.test import Client as DjangoClient

    from tests.oidc_flows import code_for_cli

    code, verifier = code_for_cli(DjangoClient(enforce_csrf_checks=True), tenant)
    server = porta_server()
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CLI_REDIRECT,
        "client_id": "acme-cli", "code_verifier": verifier,
    }  # fmt: skip

    def redeem(_):
        return requests.post(f"{server.base_url}/acme/auth/token", data=form, timeout=15).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(redeem, range(4)))
    assert statuses[1:] == [400, 400, 400]  # never a server error, never two token sets
    assert statuses[0] in (200, 400)  # the winner's tokens may already be revoked by a replay
    session = Session.objects.get(user=tenant.user)
    assert session.revoked_at is not None
    assert not RefreshToken.objects.filter(session=session, revoked_at__isnull=True).exists()
