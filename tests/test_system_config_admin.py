"""The Django admin of the live config: browsable with admin:config:read, changed only with
admin:config:update and only through the audited service, sensitive values never shown."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from porta.core import liveconfig
from porta.core.liveconfig import INTEGER, Definition
from systemconfig.models import ConfigEntry

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/systemconfig/configentry/"
SECRET = Definition("test_secret_number", INTEGER, "A secret.", lambda: 42, 1, 10**6, sensitive=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(key: str) -> str:
    return f"{CHANGELIST}{key}/change/"


def test_an_auditor_browses_every_key_in_the_django_admin(make_admin):
    response = signed_in(make_admin("porta-auditor")).get(CHANGELIST)
    assert response.status_code == 200
    assert b"access_token_ttl" in response.content
    assert b"audit_retention_days" in response.content


def test_the_django_admin_searches_keys(make_admin):
    response = signed_in(make_admin("porta-auditor")).get(CHANGELIST, {"q": "lockout"})
    assert b"lockout_duration" in response.content
    assert b"access_token_ttl" not in response.content


def test_an_auditor_cannot_change_a_value_from_the_django_admin(make_admin):
    response = signed_in(make_admin("porta-auditor")).post(change_url("access_token_ttl"), {"value": "600"})
    assert response.status_code == 403
    assert ConfigEntry.objects.get(key="access_token_ttl").value is None


def test_a_super_admin_changes_a_value_from_the_django_admin_through_the_audited_service(super_admin):
    response = signed_in(super_admin).post(change_url("access_token_ttl"), {"value": "600"})
    assert response.status_code == 302, response.content
    assert liveconfig.get("access_token_ttl") == 600
    entry = AuditEntry.objects.get(event_type="config.updated", target_id="access_token_ttl")
    assert entry.actor_label == super_admin.email


def test_an_out_of_bounds_value_is_refused_by_the_django_admin_form(super_admin):
    response = signed_in(super_admin).post(change_url("access_token_ttl"), {"value": "5"})
    assert response.status_code == 200  # the form again, with its error
    assert b"Must be at least 60." in response.content
    assert ConfigEntry.objects.get(key="access_token_ttl").value is None


def test_the_reset_action_puts_keys_back_to_their_defaults(super_admin):
    client = signed_in(super_admin)
    client.post(change_url("max_failed_logins"), {"value": "9"})
    client.post(CHANGELIST, {"action": "reset_to_default", "_selected_action": ["max_failed_logins"]})
    assert ConfigEntry.objects.get(key="max_failed_logins").value is None
    assert AuditEntry.objects.filter(event_type="config.updated", target_id="max_failed_logins").count() == 2


def test_a_sensitive_value_never_shows_in_the_django_admin(super_admin):
    liveconfig.define(SECRET)
    try:
        ConfigEntry.objects.create(key="test_secret_number", value=31337)
        client = signed_in(super_admin)
        assert b"31337" not in client.get(CHANGELIST).content
        assert b"31337" not in client.get(change_url("test_secret_number")).content
    finally:
        liveconfig.undefine("test_secret_number")
