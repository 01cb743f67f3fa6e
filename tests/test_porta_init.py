"""``python manage.py porta_init`` (contract §2 "Bootstrap"), the admin metadata it enables, and the
encryption at rest of the signing key it creates (contract §3 "Signing keys", §4 configuration)."""

from __future__ import annotations

import base64
import os
import re
import secrets
import stat
from io import StringIO

import jwt
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

import keys.keyring
from applications.models import Application
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from keys import crypto
from keys.models import SigningKey, SigningKeyStatus
from keys.services import signing_key_generate
from organizations.models import Organization, User
from porta.bootstrap import ACTOR
from rbac.admin_roles import ADMIN_APP_SLUG, ADMIN_ROLES, ALL_ADMIN_PERMISSIONS
from rbac.models import Permission, Role, UserRole
from tests.conftest import issue_token, post_form

EMAIL = "root@example.com"
PASSWORD = "a-long-admin-password"


def porta_init(*args: str) -> str:
    out = StringIO()
    call_command("porta_init", *args, stdout=out)
    return out.getvalue()


def init_with_flags(*extra: str) -> str:
    return porta_init("--admin-email", EMAIL, "--admin-password", PASSWORD, *extra)


def new_kek() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def kek_id(encoded: str) -> str:
    return crypto._parse_keks((encoded,))[0][0]


def can_log_in(email: str, password: str, org_slug: str = "porta-admin") -> bool:
    response = post_form(
        Client(),
        f"/{org_slug}/auth/token",
        {"grant_type": "password", "client_id": "porta-cli", "username": email, "password": password},
    )
    return response.status_code == 200


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Organization,
            Application,
            OAuthClient,
            SigningKey,
            Permission,
            Role,
            UserRole,
            User,
            AuditEntry,
        )
    }


def active_key() -> SigningKey:
    return SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)


def private_key_of(key: SigningKey):
    der = crypto.decrypt(key.private_key_ciphertext, kek_id=key.kek_id, associated_data=key.kid.encode())
    return serialization.load_der_private_key(der, password=None)


# -- what it creates -------------------------------------------------------------------------------


def test_porta_init_creates_one_super_admin_organization_with_the_default_slug(db):
    init_with_flags()
    organization = Organization.objects.get(is_super_admin=True)
    assert organization.slug == "porta-admin"


def test_porta_init_creates_the_public_porta_cli_client(db):
    init_with_flags()
    client = OAuthClient.objects.get(client_id="porta-cli")
    assert client.organization.is_super_admin
    assert client.application.slug == ADMIN_APP_SLUG
    assert client.client_type == "public"
    assert client.token_endpoint_auth_method == "none"
    assert set(client.grant_types) == {"password", "refresh_token", "authorization_code"}
    assert client.require_pkce


def test_porta_init_creates_one_active_es256_signing_key(db):
    init_with_flags()
    key = active_key()
    assert key.algorithm == "ES256"
    public_key = serialization.load_pem_public_key(key.public_key_pem.encode())
    assert public_key.curve.name == "secp256r1"


def test_porta_init_seeds_the_admin_application_with_every_catalogue_permission(db):
    init_with_flags()
    seeded = set(Permission.objects.filter(application__slug=ADMIN_APP_SLUG).values_list("slug", flat=True))
    assert seeded == ALL_ADMIN_PERMISSIONS


@pytest.mark.parametrize("role_slug", sorted(ADMIN_ROLES))
def test_porta_init_seeds_each_admin_role_with_its_catalogue_permissions(db, role_slug):
    init_with_flags()
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=role_slug)
    assert set(role.permissions.values_list("slug", flat=True)) == ADMIN_ROLES[role_slug][2]
    assert role.is_system


def test_the_first_admin_holds_porta_super_admin_in_the_super_admin_organization(db):
    init_with_flags()
    admin = User.objects.get(email=EMAIL)
    assert admin.organization.is_super_admin
    assert set(admin.user_roles.values_list("role__slug", flat=True)) == {"porta-super-admin"}


def test_the_first_admin_can_use_the_admin_api(db):
    init_with_flags()
    token = issue_token(Client(), EMAIL, PASSWORD)["access_token"]
    response = Client().get("/api/admin/organizations", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_porta_init_audits_what_it_creates(db):
    init_with_flags()
    events = set(AuditEntry.objects.filter(actor_label=ACTOR.label).values_list("event_type", flat=True))
    assert {
        "org.created",
        "app.created",
        "client.created",
        "key.generated",
        "user.created",
        "user.role.assigned",
    } <= events


def test_porta_init_reports_what_it_created(db):
    output = init_with_flags()
    assert "created super-admin organization 'porta-admin'" in output
    assert "created client 'porta-cli'" in output


# -- idempotence -----------------------------------------------------------------------------------


def test_running_porta_init_twice_creates_nothing_the_second_time(db):
    init_with_flags()
    before = counts()
    init_with_flags()
    assert counts() == before


def test_a_second_run_says_there_is_nothing_to_do(db):
    init_with_flags()
    assert "nothing to do" in init_with_flags()


def test_a_second_run_with_other_credentials_changes_no_admin(db):
    init_with_flags()
    porta_init("--admin-email", "other@example.com", "--admin-password", "another-password")
    assert not User.objects.filter(email="other@example.com").exists()
    assert can_log_in(EMAIL, PASSWORD)


def test_a_second_run_leaves_exactly_one_of_each_singleton(db):
    init_with_flags()
    init_with_flags("--slug", "another-slug")
    assert Organization.objects.filter(is_super_admin=True).count() == 1
    assert OAuthClient.objects.filter(client_id="porta-cli").count() == 1
    assert SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).count() == 1


def test_a_rerun_after_the_catalogue_grew_grants_the_new_permissions_to_the_system_roles(db):
    """An upgrade that adds an admin permission: porta_init creates it and the built-in roles whose
    catalogue entry grants it get it (simulated by deleting a seeded permission)."""
    init_with_flags()
    Permission.objects.get(application__slug=ADMIN_APP_SLUG, slug="admin:stats:read").delete()
    init_with_flags()
    for role_slug in ("porta-org-admin", "porta-auditor"):
        role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=role_slug)
        assert "admin:stats:read" in role.permissions.values_list("slug", flat=True), role_slug


def test_a_rerun_does_not_restore_a_permission_deliberately_removed_from_a_system_role(db):
    init_with_flags()
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-auditor")
    role.role_permissions.filter(permission__slug="admin:audit:read").delete()
    init_with_flags()
    assert "admin:audit:read" not in role.permissions.values_list("slug", flat=True)


# -- flags and environment -------------------------------------------------------------------------


def test_the_admin_email_and_password_flags_make_the_first_admin(db):
    init_with_flags()
    assert can_log_in(EMAIL, PASSWORD)


def test_the_slug_flag_names_the_super_admin_organization(db):
    init_with_flags("--slug", "control")
    assert Organization.objects.get(is_super_admin=True).slug == "control"
    assert can_log_in(EMAIL, PASSWORD, org_slug="control")


@pytest.mark.parametrize("slug", ["Not A Slug", "ab", "-porta", "api"])
def test_a_slug_that_breaks_the_slug_rules_is_refused_and_nothing_is_created(db, slug):
    with pytest.raises(CommandError, match="[Ss]lug"):
        init_with_flags("--slug", slug)
    assert not Organization.objects.exists()


def test_the_environment_supplies_the_admin_credentials(db, monkeypatch):
    monkeypatch.setenv("PORTA_ADMIN_EMAIL", "env-admin@example.com")
    monkeypatch.setenv("PORTA_ADMIN_PASSWORD", "password-from-env")
    porta_init()
    assert can_log_in("env-admin@example.com", "password-from-env")


def test_flags_take_precedence_over_the_environment(db, monkeypatch):
    monkeypatch.setenv("PORTA_ADMIN_EMAIL", "env-admin@example.com")
    monkeypatch.setenv("PORTA_ADMIN_PASSWORD", "password-from-env")
    init_with_flags()
    assert can_log_in(EMAIL, PASSWORD)
    assert not User.objects.filter(email="env-admin@example.com").exists()


def test_a_generated_password_is_printed_and_works(db):
    output = porta_init("--admin-email", EMAIL)
    password = re.search(r"Password: (\S+)", output).group(1)
    assert len(password) >= 16
    assert can_log_in(EMAIL, password)


def test_a_generated_password_is_written_to_the_credentials_file(db, tmp_path):
    path = tmp_path / "admin-credentials"
    output = porta_init("--admin-email", EMAIL, "--credentials-file", str(path))
    password = re.search(r"Password: (\S+)", output).group(1)
    assert path.read_text().split() == [EMAIL, password]


def test_the_credentials_file_is_readable_by_its_owner_only(db, tmp_path):
    path = tmp_path / "admin-credentials"
    porta_init("--admin-email", EMAIL, "--credentials-file", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_password_given_by_the_operator_is_never_printed(db):
    assert PASSWORD not in init_with_flags()


def test_without_input_the_default_admin_email_is_used(db, monkeypatch):
    monkeypatch.delenv("PORTA_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("PORTA_ADMIN_PASSWORD", raising=False)
    porta_init()
    assert User.objects.filter(email="admin@porta.local", organization__is_super_admin=True).exists()


def test_an_invalid_admin_email_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="e-mail"):
        porta_init("--admin-email", "not-an-email", "--admin-password", PASSWORD)
    assert not Organization.objects.exists()


def test_a_short_admin_password_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="8 characters"):
        porta_init("--admin-email", EMAIL, "--admin-password", "short")
    assert not Organization.objects.exists()


# -- metadata and JWKS -----------------------------------------------------------------------------


def test_metadata_answers_503_before_porta_init(db):
    response = Client().get("/api/admin/metadata")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "ServiceUnavailable"
    assert body["statusCode"] == 503
    assert "porta_init" in body["message"]


def test_metadata_names_the_admin_issuer_and_client_after_porta_init(db):
    init_with_flags()
    response = Client().get("/api/admin/metadata")
    assert response.status_code == 200
    issuer = "http://testserver/porta-admin"
    assert response.json() == {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth/authorize",
        "token_endpoint": f"{issuer}/auth/token",
        "end_session_endpoint": f"{issuer}/auth/end-session",
        "jwks_uri": f"{issuer}/auth/jwks",
        "orgSlug": "porta-admin",
        "clientId": "porta-cli",
    }


def test_metadata_follows_a_custom_slug(db):
    init_with_flags("--slug", "control")
    body = Client().get("/api/admin/metadata").json()
    assert body["issuer"] == "http://testserver/control"
    assert body["orgSlug"] == "control"


def test_the_metadata_token_endpoint_issues_tokens(db):
    init_with_flags()
    token_endpoint = Client().get("/api/admin/metadata").json()["token_endpoint"]
    response = post_form(
        Client(),
        token_endpoint.removeprefix("http://testserver"),
        {"grant_type": "password", "client_id": "porta-cli", "username": EMAIL, "password": PASSWORD},
    )
    assert response.status_code == 200


def test_the_jwks_publishes_the_active_signing_key(db):
    init_with_flags()
    response = Client().get("/porta-admin/auth/jwks")
    assert response.status_code == 200
    (jwk,) = response.json()["keys"]
    assert jwk["kid"] == active_key().kid
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")


def test_the_jwks_never_publishes_private_key_material(db):
    init_with_flags()
    (jwk,) = Client().get("/porta-admin/auth/jwks").json()["keys"]
    assert "d" not in jwk


def test_the_published_jwk_is_the_stored_public_key(db):
    init_with_flags()
    (jwk,) = Client().get("/porta-admin/auth/jwks").json()["keys"]
    stored = serialization.load_pem_public_key(active_key().public_key_pem.encode())
    assert jwt.PyJWK(jwk).key.public_numbers() == stored.public_numbers()


# -- the private key at rest -----------------------------------------------------------------------


def test_the_stored_ciphertext_contains_no_form_of_the_private_key(db):
    init_with_flags()
    key = active_key()
    private_key = private_key_of(key)
    stored = bytes(key.private_key_ciphertext)
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    scalar = private_key.private_numbers().private_value.to_bytes(32, "big")
    for form in (der, pem, scalar):
        assert form not in stored
    assert b"PRIVATE KEY" not in stored


def test_no_text_column_of_the_signing_key_holds_a_private_key(db):
    init_with_flags()
    key = active_key()
    for field in SigningKey._meta.concrete_fields:
        value = getattr(key, field.attname)
        if isinstance(value, str):
            assert "PRIVATE KEY" not in value, field.name


def test_the_stored_key_decrypts_with_the_configured_kek_to_the_published_key_pair(db):
    init_with_flags()
    key = active_key()
    stored_public = serialization.load_pem_public_key(key.public_key_pem.encode())
    assert private_key_of(key).public_key().public_numbers() == stored_public.public_numbers()


def test_the_stored_key_was_encrypted_under_the_configured_kek(db, settings):
    init_with_flags()
    assert active_key().kek_id == kek_id(settings.PORTA_KEY_ENCRYPTION_KEYS[0])


def test_the_stored_key_does_not_decrypt_with_a_different_kek(db, settings):
    init_with_flags()
    key = active_key()
    settings.PORTA_KEY_ENCRYPTION_KEYS = [new_kek()]
    with pytest.raises(ImproperlyConfigured, match="PORTA_KEY_ENCRYPTION_KEY"):
        private_key_of(key)


def test_the_ciphertext_fails_authentication_under_a_different_kek(db):
    init_with_flags()
    data = bytes(active_key().private_key_ciphertext)
    nonce, sealed = data[: crypto.NONCE_BYTES], data[crypto.NONCE_BYTES :]
    other = base64.urlsafe_b64decode(new_kek())
    with pytest.raises(InvalidTag):
        AESGCM(other).decrypt(nonce, sealed, active_key().kid.encode())


def test_the_ciphertext_is_bound_to_its_kid(db):
    init_with_flags()
    key = active_key()
    with pytest.raises(InvalidTag):
        crypto.decrypt(key.private_key_ciphertext, kek_id=key.kek_id, associated_data=b"another-kid")


def test_without_its_kek_the_keyring_refuses_to_sign_with_a_clear_message(db, settings):
    init_with_flags()
    settings.PORTA_KEY_ENCRYPTION_KEYS = [new_kek()]
    keys.keyring._keyring = None
    with pytest.raises(ImproperlyConfigured, match="add the old key to PORTA_KEY_ENCRYPTION_KEY"):
        keys.keyring.keyring()


# -- KEK rotation ----------------------------------------------------------------------------------


def test_a_key_encrypted_under_an_old_kek_still_signs_when_a_new_kek_is_listed_first(db, settings):
    init_with_flags()
    old = settings.PORTA_KEY_ENCRYPTION_KEYS[0]
    settings.PORTA_KEY_ENCRYPTION_KEYS = [new_kek(), old]
    keys.keyring._keyring = None
    token = issue_token(Client(), EMAIL, PASSWORD)["access_token"]
    response = Client().get("/api/admin/organizations", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_new_keys_are_encrypted_under_the_first_listed_kek(db, settings):
    init_with_flags()
    new = new_kek()
    settings.PORTA_KEY_ENCRYPTION_KEYS = [new, settings.PORTA_KEY_ENCRYPTION_KEYS[0]]
    key = signing_key_generate(actor=ACTOR, status=SigningKeyStatus.NEXT)
    assert key.kek_id == kek_id(new)
    assert private_key_of(key).public_key() is not None


@pytest.mark.parametrize("value", ["not base64 at all!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_malformed_kek_is_a_configuration_error(settings, value):
    settings.PORTA_KEY_ENCRYPTION_KEYS = [value]
    with pytest.raises(ImproperlyConfigured):
        crypto.key_encryption_keys()
