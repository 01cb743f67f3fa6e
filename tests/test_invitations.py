"""Invitations: create the user if missing, one open token at a time, a courier message each."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from courier.models import Message
from organizations.models import Invitation, Organization, User


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


def invite(api, org: Organization, body: dict):
    return api.post(f"/api/admin/organizations/{org.id}/users/invite", body)


def test_inviting_a_new_email_creates_the_user_and_answers_201(api, org):
    response = invite(api, org, {"email": "new@acme.example", "givenName": "New"})
    assert response.status_code == 201, response.content
    assert User.objects.get(pk=response.json()["userId"]).given_name == "New"


def test_inviting_an_existing_user_answers_200_without_creating_one(api, org):
    User.objects.create(organization=org, email="old@acme.example")
    response = invite(api, org, {"email": "OLD@acme.example"})
    assert response.status_code == 200
    assert response.json()["created"] is False
    assert User.objects.filter(organization=org).count() == 1


def test_an_invitation_queues_an_invitation_message(api, org):
    invite(api, org, {"email": "new@acme.example"})
    assert Message.objects.filter(recipient="new@acme.example", template="invitation").count() == 1


def test_the_invitation_token_is_valid_for_7_days(api, org):
    invite(api, org, {"email": "new@acme.example"})
    invitation = Invitation.objects.get()
    remaining = invitation.expires_at - timezone.now()
    assert datetime.timedelta(days=6, hours=23) < remaining <= datetime.timedelta(days=7)


def test_a_new_invitation_invalidates_the_earlier_one(api, org):
    invite(api, org, {"email": "new@acme.example"})
    invite(api, org, {"email": "new@acme.example"})
    assert Invitation.objects.filter(used_at__isnull=True).count() == 1
    assert Invitation.objects.count() == 2


def test_only_a_hash_of_the_token_is_stored(api, org):
    invite(api, org, {"email": "new@acme.example"})
    body = Message.objects.get().body_text
    invitation = Invitation.objects.get()
    assert invitation.token_hash not in body


def test_the_preview_renders_subject_text_and_html(api, org):
    response = api.post(
        f"/api/admin/organizations/{org.id}/users/invite/preview", {"email": "new@acme.example"}
    )
    assert response.status_code == 200, response.content
    assert "Acme" in response.json()["subject"]
    assert set(response.json()) == {"subject", "text", "html"}


def test_the_preview_sends_nothing_and_creates_nothing(api, org):
    api.post(f"/api/admin/organizations/{org.id}/users/invite/preview", {"email": "new@acme.example"})
    assert not Message.objects.exists()
    assert not User.objects.filter(organization=org).exists()
