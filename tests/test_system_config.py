"""Live system config (/api/admin/config): the seeded keys of upstream Porta, typed values,
validation, masking, audit, tenancy, and the settings that read the live value."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from audit.models import AuditEntry
from organizations.models import Organization, User, UserStatus
from porta.core import liveconfig
from porta.core.liveconfig import INTEGER, Definition
from systemconfig.api.views import AuditCleanupViewSet, ConfigViewSet
from systemconfig.models import ConfigEntry
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token, post_form
from tests.permission_suite import Endpoint, PermissionSuite

CONFIG = "/api/admin/config"
UPSTREAM_KEYS = {
    "access_token_ttl", "id_token_ttl", "refresh_token_ttl", "authorization_code_ttl", "session_ttl",
    "cookie_secure", "magic_link_ttl", "magic_link_length", "password_reset_ttl", "invitation_ttl",
    "login_rate_limit", "api_rate_limit", "max_failed_logins", "lockout_duration", "require_pkce",
    "cors_max_age", "audit_retention_days",
}  # fmt: skip
ENDPOINTS = (
    Endpoint("GET", CONFIG, "admin:config:read", expect=200),
    Endpoint("GET", f"{CONFIG}/{{id}}", "admin:config:read", expect=200),
    Endpoint("PUT", f"{CONFIG}/{{id}}", "admin:config:update", body={"value": 120}, expect=200),
    Endpoint("POST", "/api/admin/audit/cleanup", "admin:config:update", body={"dryRun": True}, expect=200),
)


class TestConfigPermissions(PermissionSuite):
    viewsets = (ConfigViewSet, AuditCleanupViewSet)
    endpoints = ENDPOINTS

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        return {"id": "audit_retention_days"}


def _scoped_client(api: ApiClient) -> ApiClient:
    home = Organization.objects.create(name="Home", slug="home-org")
    body = {"name": "Scoped", "organizationId": str(home.id), "roles": ["porta-super-admin"]}
    minted = api.post("/api/admin/api-keys", body)
    assert minted.status_code == 201, minted.content
    return ApiClient(Client(), minted.json()["secret"])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
def test_an_organization_scoped_api_key_gets_403_on_config_and_cleanup(api, endpoint):
    scoped = _scoped_client(api)
    before = dict(ConfigEntry.objects.values_list("key", "value"))
    response = endpoint.send(scoped, {"id": "access_token_ttl"})
    assert response.status_code == 403, response.content
    assert dict(ConfigEntry.objects.values_list("key", "value")) == before


def test_the_list_holds_every_seeded_key_of_upstream_porta_with_its_type(api):
    body = api.get(CONFIG).json()
    entries = {entry["key"]: entry for entry in body["data"]}
    assert set(entries) == UPSTREAM_KEYS
    assert body["pagination"]["total"] == len(UPSTREAM_KEYS)
    assert entries["access_token_ttl"]["valueType"] == "integer"
    assert entries["access_token_ttl"]["unit"] == "seconds"
    assert entries["require_pkce"]["valueType"] == "boolean"
    assert entries["require_pkce"]["value"] is True


def test_the_list_is_sorted_by_key(api):
    keys = [entry["key"] for entry in api.get(CONFIG).json()["data"]]
    assert keys == sorted(keys)


@override_settings(PORTA_ACCESS_TOKEN_TTL=777)
def test_an_unset_key_shows_the_environment_value_as_its_value_and_default(api):
    entry = api.get(f"{CONFIG}/access_token_ttl").json()
    assert entry["value"] == 777
    assert entry["defaultValue"] == 777
    assert entry["overridden"] is False
    assert entry["updatedAt"] is None


def test_an_unknown_key_is_404_naming_it(api):
    response = api.get(f"{CONFIG}/no_such_key")
    assert response.status_code == 404
    assert response.json()["message"] == "Config key not found: no_such_key"


def test_setting_an_unknown_key_is_404_and_creates_nothing(api):
    response = api.put(f"{CONFIG}/no_such_key", {"value": 5})
    assert response.status_code == 404
    assert not ConfigEntry.objects.filter(key="no_such_key").exists()


def test_setting_an_integer_key_returns_the_typed_value(api):
    response = api.put(f"{CONFIG}/access_token_ttl", {"value": 1200})
    assert response.status_code == 200, response.content
    assert response.json()["value"] == 1200
    assert response.json()["overridden"] is True
    assert api.get(f"{CONFIG}/access_token_ttl").json()["value"] == 1200


def test_setting_a_boolean_key_returns_the_typed_value(api):
    response = api.put(f"{CONFIG}/require_pkce", {"value": False})
    assert response.status_code == 200, response.content
    assert response.json()["value"] is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("access_token_ttl", "3600"),
        ("access_token_ttl", 12.5),
        ("access_token_ttl", True),
        ("access_token_ttl", 0),
        ("access_token_ttl", -5),
        ("access_token_ttl", 10**9),
        ("access_token_ttl", [60]),
        ("require_pkce", "true"),
        ("require_pkce", 1),
        ("audit_retention_days", 0),
    ],
)
def test_an_invalid_value_is_400_and_changes_nothing(api, key, value):
    before = api.get(f"{CONFIG}/{key}").json()
    response = api.put(f"{CONFIG}/{key}", {"value": value})
    assert response.status_code == 400, response.content
    assert response.json()["details"]["value"]
    assert api.get(f"{CONFIG}/{key}").json() == before
    assert not AuditEntry.objects.filter(event_type="config.updated").exists()


def test_a_body_without_a_value_is_400(api):
    response = api.put(f"{CONFIG}/access_token_ttl", {})
    assert response.status_code == 400
    assert "value" in response.json()["details"]


def test_an_unknown_body_field_is_400_naming_it(api):
    response = api.put(f"{CONFIG}/access_token_ttl", {"value": 600, "colour": "red"})
    assert response.status_code == 400
    assert "colour" in response.json()["details"]


def test_a_get_modify_put_round_trip_is_accepted(api):
    entry = api.get(f"{CONFIG}/session_ttl").json()
    response = api.put(f"{CONFIG}/session_ttl", {**entry, "value": 7200})
    assert response.status_code == 200, response.content
    assert response.json()["value"] == 7200


def test_null_resets_a_key_to_its_default(api):
    api.put(f"{CONFIG}/max_failed_logins", {"value": 9})
    response = api.put(f"{CONFIG}/max_failed_logins", {"value": None})
    assert response.status_code == 200
    assert response.json()["overridden"] is False
    assert response.json()["value"] == response.json()["defaultValue"] == 5


def test_a_change_is_audited_with_before_and_after(api):
    api.put(f"{CONFIG}/access_token_ttl", {"value": 1200})
    entry = AuditEntry.objects.get(event_type="config.updated")
    assert entry.target_type == "config"
    assert entry.target_id == "access_token_ttl"
    assert entry.actor_label == ADMIN_EMAIL
    assert entry.metadata["changes"] == {"value": {"before": None, "after": 1200}}


def test_a_stale_if_match_is_412_and_changes_nothing(api):
    etag = api.get(f"{CONFIG}/access_token_ttl")["ETag"]
    api.put(f"{CONFIG}/access_token_ttl", {"value": 1200})
    response = api.put(f"{CONFIG}/access_token_ttl", {"value": 1500}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert api.get(f"{CONFIG}/access_token_ttl").json()["value"] == 1200


SECRET = Definition("test_secret_number", INTEGER, "A secret.", lambda: 42, 1, 10**6, sensitive=True)


@pytest.fixture
def secret_key():
    """A sensitive key, defined as an app defines its own (liveconfig.define)."""
    liveconfig.define(SECRET)
    ConfigEntry.objects.get_or_create(key="test_secret_number")
    yield "test_secret_number"
    liveconfig.undefine("test_secret_number")


def test_a_sensitive_value_is_masked_in_the_list_the_detail_and_the_audit_trail(api, secret_key):
    updated = api.put(f"{CONFIG}/{secret_key}", {"value": 31337})
    assert updated.status_code == 200, updated.content
    listed = {entry["key"]: entry for entry in api.get(CONFIG).json()["data"]}[secret_key]
    detail = api.get(f"{CONFIG}/{secret_key}").json()
    for shown in (updated.json(), listed, detail):
        assert shown["isSensitive"] is True
        assert shown["value"] == "***"
        assert shown["defaultValue"] == "***"
    trail = AuditEntry.objects.get(event_type="config.updated", target_id=secret_key)
    assert "31337" not in str(trail.metadata)
    assert liveconfig.get(secret_key) == 31337


# -- the settings that read the live value -----------------------------------------------------


def test_a_new_access_token_lifetime_applies_to_the_next_token(api):
    api.put(f"{CONFIG}/access_token_ttl", {"value": 300})
    assert issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["expires_in"] == 300


def test_a_new_max_failed_logins_locks_the_account_at_the_new_threshold(api, tenant_user):
    api.put(f"{CONFIG}/max_failed_logins", {"value": 2})
    for _ in range(2):
        _tenant_login(tenant_user, "wrong-password")
    tenant_user.refresh_from_db()
    assert tenant_user.status == UserStatus.LOCKED


def test_an_automatic_lock_ends_once_the_lockout_duration_has_passed(api, tenant_user):
    from tests.conftest import TENANT_PASSWORD

    api.put(f"{CONFIG}/max_failed_logins", {"value": 1})
    _tenant_login(tenant_user, "wrong-password")
    User.objects.filter(pk=tenant_user.pk).update(locked_at=_minutes_ago(16))
    response = _tenant_login(tenant_user, TENANT_PASSWORD)
    assert response.status_code == 200, response.content
    tenant_user.refresh_from_db()
    assert tenant_user.status == UserStatus.ACTIVE
    assert AuditEntry.objects.filter(
        event_type="user.activated", target_id=str(tenant_user.id), metadata__reason="lockout_expired"
    ).exists()


def test_an_automatic_lock_holds_within_a_longer_live_lockout_duration(api, tenant_user):
    from tests.conftest import TENANT_PASSWORD

    api.put(f"{CONFIG}/max_failed_logins", {"value": 1})
    api.put(f"{CONFIG}/lockout_duration", {"value": 3600})
    _tenant_login(tenant_user, "wrong-password")
    User.objects.filter(pk=tenant_user.pk).update(locked_at=_minutes_ago(16))
    response = _tenant_login(tenant_user, TENANT_PASSWORD)
    assert response.status_code == 400
    tenant_user.refresh_from_db()
    assert tenant_user.status == UserStatus.LOCKED


def test_a_lockout_duration_of_zero_keeps_the_lock_until_an_administrator_unlocks(api, tenant_user):
    from tests.conftest import TENANT_PASSWORD

    api.put(f"{CONFIG}/max_failed_logins", {"value": 1})
    api.put(f"{CONFIG}/lockout_duration", {"value": 0})
    _tenant_login(tenant_user, "wrong-password")
    User.objects.filter(pk=tenant_user.pk).update(locked_at=_minutes_ago(60 * 24 * 30))
    assert _tenant_login(tenant_user, TENANT_PASSWORD).status_code == 400
    tenant_user.refresh_from_db()
    assert tenant_user.status == UserStatus.LOCKED


def test_a_lock_set_by_an_administrator_does_not_expire(api, tenant_user):
    from tests.conftest import TENANT_PASSWORD

    locked = api.post(f"/api/admin/users/{tenant_user.id}/lock", {"reason": "fraud"})
    assert locked.status_code == 200, locked.content
    User.objects.filter(pk=tenant_user.pk).update(locked_at=_minutes_ago(60 * 24))
    assert _tenant_login(tenant_user, TENANT_PASSWORD).status_code == 400
    tenant_user.refresh_from_db()
    assert tenant_user.status == UserStatus.LOCKED


def test_a_new_api_rate_limit_applies_to_the_next_admin_writes(api):
    api.put(f"{CONFIG}/api_rate_limit", {"value": 2})
    statuses = [api.put(f"{CONFIG}/session_ttl", {"value": 7200}).status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_a_new_require_pkce_is_the_default_of_the_next_client(api):
    api.put(f"{CONFIG}/require_pkce", {"value": False})
    organization = Organization.objects.get(is_super_admin=True)
    application = api.post("/api/admin/applications", {"name": "PKCE app"}).json()
    body = {
        "organizationId": str(organization.id),
        "applicationId": application["id"],
        "clientName": "No PKCE by default",
        "clientType": "public",
        "applicationType": "native",
        "redirectUris": ["http://127.0.0.1/callback"],
    }
    created = api.post("/api/admin/clients", body)
    assert created.status_code == 201, created.content
    assert created.json()["client"]["requirePkce"] is False


def _tenant_login(user: User, password: str):
    form = {"grant_type": "password", "client_id": "tenant-cli", "username": user.email, "password": password}
    return post_form(Client(), f"/{user.organization.slug}/auth/token", form)


def _minutes_ago(minutes: int):
    import datetime

    from django.utils import timezone

    return timezone.now() - datetime.timedelta(minutes=minutes)


def test_a_change_rolled_back_is_not_kept_by_the_process(initialized, settings):
    from django.db import transaction

    from porta.core.context import Actor
    from systemconfig.services import config_set

    seen_inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            config_set(actor=Actor.system("test"), key="access_token_ttl", value=1234)
            seen_inside.append(liveconfig.get("access_token_ttl"))
            raise RuntimeError("roll back")

    assert liveconfig.get("access_token_ttl") == settings.PORTA_ACCESS_TOKEN_TTL  # cached now
    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen_inside == [1234]  # the transaction read its own change
    assert liveconfig.get("access_token_ttl") == settings.PORTA_ACCESS_TOKEN_TTL


def test_the_list_searches_keys(api):
    keys = [entry["key"] for entry in api.get(CONFIG, {"search": "TOKEN_TTL"}).json()["data"]]
    assert keys == ["access_token_ttl", "id_token_ttl", "refresh_token_ttl"]


def test_the_list_filters_the_keys_set_here(api):
    api.put(f"{CONFIG}/session_ttl", {"value": 7200})
    set_here = [entry["key"] for entry in api.get(CONFIG, {"overridden": "true"}).json()["data"]]
    assert set_here == ["session_ttl"]
    assert "session_ttl" not in [e["key"] for e in api.get(CONFIG, {"overridden": "false"}).json()["data"]]


@pytest.mark.parametrize("params", [{"sort": "value"}, {"overridden": "maybe"}, {"pageSize": 0}])
def test_a_bad_list_parameter_is_400(api, params):
    assert api.get(CONFIG, params).status_code == 400


def test_the_list_sorts_by_key_descending_on_request(api):
    keys = [entry["key"] for entry in api.get(CONFIG, {"sort": "key", "order": "desc"}).json()["data"]]
    assert keys == sorted(keys, reverse=True)
