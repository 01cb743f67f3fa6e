"""The transition engine and the audited write, on their own: a made-up machine over the
organization's status field, so the engine's rules are tested apart from any resource's table."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils.functional import SimpleLazyObject
from rest_framework.test import APIRequestFactory

from audit.models import AuditEntry
from audit.transitions import StateMachine, Transition, transition
from audit.writes import Audited, lock, wire_fields, wire_name
from organizations.models import Organization
from porta.api.etag import IfMatch, etag_for
from porta.core.context import Actor
from porta.core.errors import Forbidden, InvalidTransition, PreconditionFailed
from tests.factories import OrganizationFactory

ACTOR = Actor(type="user", id=None, label="tester")

AUDITED = Audited(
    target_type="thing",
    fields=wire_fields("name", "status", default_locale="locale"),
    organization=lambda row: row.id,
    metadata=lambda row: {"slug": row.slug},
)
TABLE = {
    "pause": Transition(frozenset({"active"}), "suspended", "thing.paused"),
    "resume": Transition(frozenset({"suspended"}), "active", "thing.resumed"),
}


def _refuse_protected(row, action):
    if row.slug == "protected" and action == "pause":
        raise Forbidden("The protected thing cannot be paused")


MACHINE = StateMachine(noun="thing", table=TABLE, audited=AUDITED, guard=_refuse_protected)


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_type="thing").order_by("created_at", "id"))


def _represent(row) -> dict:
    return {"id": str(row.id), "name": row.name, "status": row.status}


def _if_match(header: str) -> IfMatch | None:
    request = APIRequestFactory().put("/", HTTP_IF_MATCH=header)
    return IfMatch.from_request(request, _represent)


def test_wire_names_are_the_camel_case_of_the_attribute():
    assert wire_name("default_login_methods") == "defaultLoginMethods"
    assert wire_name("name") == "name"


def test_wire_fields_take_renamed_fields_under_their_api_name():
    assert wire_fields("given_name", branding_logo_url="branding.logoUrl") == {
        "givenName": "given_name",
        "branding.logoUrl": "branding_logo_url",
    }


@pytest.mark.django_db
def test_an_allowed_transition_changes_the_state_and_records_one_entry():
    thing = OrganizationFactory(slug="thing-one")
    changed = transition(MACHINE, thing, "pause", actor=ACTOR)
    assert changed.status == "suspended"
    assert Organization.objects.get(pk=thing.pk).status == "suspended"
    (entry,) = _entries()
    assert entry.event_type == "thing.paused"
    assert entry.target_id == str(thing.id)
    assert entry.organization_id == thing.id
    assert entry.actor_label == "tester"
    assert entry.metadata == {
        "slug": "thing-one",
        "changes": {"status": {"before": "active", "after": "suspended"}},
    }


@pytest.mark.django_db
def test_a_transition_the_table_does_not_allow_is_refused_and_changes_nothing():
    thing = OrganizationFactory()
    with pytest.raises(InvalidTransition, match="Cannot resume thing from status 'active'"):
        transition(MACHINE, thing, "resume", actor=ACTOR)
    assert Organization.objects.get(pk=thing.pk).status == "active"
    assert _entries() == []


@pytest.mark.django_db
def test_a_machine_may_word_its_refusal():
    machine = StateMachine(noun="thing", table=TABLE, audited=AUDITED, refusal="Thing is already {state}")
    thing = OrganizationFactory(status="suspended")
    with pytest.raises(InvalidTransition, match="Thing is already suspended"):
        transition(machine, thing, "pause", actor=ACTOR)


@pytest.mark.django_db
def test_a_guard_refuses_before_the_table_is_consulted():
    thing = OrganizationFactory(slug="protected")
    with pytest.raises(Forbidden):
        transition(MACHINE, thing, "pause", actor=ACTOR)
    assert _entries() == []
    assert Organization.objects.get(pk=thing.pk).status == "active"


@pytest.mark.django_db
def test_a_guard_lets_the_actions_it_does_not_protect_through():
    thing = OrganizationFactory(slug="protected", status="suspended")
    assert transition(MACHINE, thing, "resume", actor=ACTOR).status == "active"


@pytest.mark.django_db
def test_a_stale_if_match_is_a_412_and_changes_nothing():
    thing = OrganizationFactory()
    stale = etag_for({"id": str(thing.id), "name": "Old name", "status": "active"})
    with pytest.raises(PreconditionFailed) as refused:
        transition(MACHINE, thing, "pause", actor=ACTOR, precondition=_if_match(stale))
    assert refused.value.extra == {"currentETag": etag_for(_represent(thing))}
    assert Organization.objects.get(pk=thing.pk).status == "active"
    assert _entries() == []


@pytest.mark.django_db
def test_the_current_if_match_lets_the_transition_through():
    thing = OrganizationFactory()
    current = etag_for(_represent(thing))
    transition(MACHINE, thing, "pause", actor=ACTOR, precondition=_if_match(f'"other", {current}'))
    assert Organization.objects.get(pk=thing.pk).status == "suspended"


def test_no_if_match_or_a_star_is_nothing_to_check():
    assert IfMatch.from_request(APIRequestFactory().put("/"), _represent) is None
    assert _if_match("*") is None


@pytest.mark.django_db
def test_the_precondition_is_checked_on_the_locked_row_not_the_callers_copy():
    thing = OrganizationFactory()
    seen = []
    transition(MACHINE, thing, "pause", actor=ACTOR, precondition=seen.append)
    assert seen[0] is not thing
    assert seen[0].pk == thing.pk


@pytest.mark.django_db
def test_an_idempotent_machine_leaves_a_row_already_there_alone():
    machine = StateMachine(noun="thing", table=TABLE, audited=AUDITED, idempotent=True)
    thing = OrganizationFactory(status="suspended")
    assert transition(machine, thing, "pause", actor=ACTOR).status == "suspended"
    assert _entries() == []


@pytest.mark.django_db
def test_an_effect_writes_more_fields_and_adds_metadata():
    def rename(row, change):
        row.name = f"{row.name} ({change.action}, {change.reason})"
        change.save_fields.append("name")
        change.metadata["note"] = "renamed"

    machine = StateMachine(noun="thing", table=TABLE, audited=AUDITED, effect=rename)
    thing = OrganizationFactory(name="Thing", slug="thing-two")
    transition(machine, thing, "pause", actor=ACTOR, reason="why", metadata={"reason": "why"})
    assert Organization.objects.get(pk=thing.pk).name == "Thing (pause, why)"
    (entry,) = _entries()
    assert entry.metadata == {
        "slug": "thing-two",
        "reason": "why",
        "note": "renamed",
        "changes": {
            "name": {"before": "Thing", "after": "Thing (pause, why)"},
            "status": {"before": "active", "after": "suspended"},
        },
    }


@pytest.mark.django_db
def test_a_derived_state_is_read_and_written_by_the_machine():
    machine = StateMachine(
        noun="thing",
        table={"archive": Transition(frozenset({"live"}), "gone", "thing.archived")},
        audited=AUDITED,
        field=None,
        state=lambda row: "gone" if row.status == "archived" else "live",
        effect=lambda row, change: (setattr(row, "status", "archived"), change.save_fields.append("status")),
    )
    thing = OrganizationFactory()
    transition(machine, thing, "archive", actor=ACTOR)
    assert Organization.objects.get(pk=thing.pk).status == "archived"
    with pytest.raises(InvalidTransition, match="from status 'gone'"):
        transition(machine, thing, "archive", actor=ACTOR)


@pytest.mark.django_db
def test_the_audited_change_records_only_what_the_block_changed():
    thing = OrganizationFactory(name="Before")
    with transaction.atomic(), AUDITED.change("thing.updated", actor=ACTOR, row=thing) as row:
        row.name = "After"
        row.save()
    (entry,) = _entries()
    assert entry.metadata == {
        "slug": thing.slug,
        "changes": {"name": {"before": "Before", "after": "After"}},
    }


@pytest.mark.django_db
def test_an_audited_change_that_raises_records_nothing():
    thing = OrganizationFactory()
    with (
        pytest.raises(ValueError, match="refused"),
        transaction.atomic(),
        AUDITED.change("thing.updated", actor=ACTOR, row=thing),
    ):
        raise ValueError("refused")
    assert _entries() == []


@pytest.mark.django_db
def test_created_and_deleted_entries_carry_every_audited_field():
    thing = OrganizationFactory(name="Thing")
    with transaction.atomic():
        AUDITED.record_created("thing.created", actor=ACTOR, row=thing, metadata={"extra": 1})
        AUDITED.record_deleted("thing.deleted", actor=ACTOR, row=thing)
    created, deleted = _entries()
    fields = {"name": "Thing", "status": "active", "locale": "en"}
    assert created.metadata == {
        "slug": thing.slug,
        "extra": 1,
        "changes": {k: {"before": None, "after": v} for k, v in fields.items()},
    }
    assert deleted.metadata["changes"] == {k: {"before": v, "after": None} for k, v in fields.items()}


@pytest.mark.django_db
def test_a_batch_is_recorded_with_one_entry_per_row():
    things = OrganizationFactory.create_batch(3)
    with transaction.atomic():
        AUDITED.record_created_many("thing.batch.created", actor=ACTOR, rows=things)
    entries = _entries()
    assert sorted(e.target_id for e in entries) == sorted(str(t.id) for t in things)
    assert {e.event_type for e in entries} == {"thing.batch.created"}
    assert all(e.metadata["changes"]["status"] == {"before": None, "after": "active"} for e in entries)


@pytest.mark.django_db
def test_a_lazy_proxy_of_a_row_is_locked_as_the_row():
    thing = OrganizationFactory()
    with transaction.atomic():
        assert lock(SimpleLazyObject(lambda: thing)) == thing


def test_recording_outside_a_transaction_is_refused(transactional_db):
    thing = OrganizationFactory()
    with pytest.raises(RuntimeError):
        AUDITED.record("thing.touched", actor=ACTOR, row=thing)
    with pytest.raises(RuntimeError):
        AUDITED.record_created_many("thing.batch.created", actor=ACTOR, rows=[thing])
    with pytest.raises(RuntimeError):
        lock(thing)
