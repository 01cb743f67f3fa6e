"""Writes to users: business rules, lifecycle transitions and their audit entries, one
transaction each."""

from __future__ import annotations

import secrets
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audit.models import AuditEntry
from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields
from organizations import extensions
from organizations.models import Organization, User, UserStatus
from organizations.services import organization_accepting_members
from porta.core.context import Actor
from porta.core.db import copy_rows, copy_supported, json_value
from porta.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from porta.core.hashers import hash_passwords
from porta.core.invalidation import principals_changed, rows_changed

#: action → (statuses it is allowed from, status it leads to, audit event)
USER_TRANSITIONS: dict[str, Transition] = {
    "deactivate": Transition(frozenset({UserStatus.ACTIVE}), UserStatus.INACTIVE, "user.deactivated"),
    "reactivate": Transition(frozenset({UserStatus.INACTIVE}), UserStatus.ACTIVE, "user.activated"),
    "suspend": Transition(frozenset({UserStatus.ACTIVE}), UserStatus.SUSPENDED, "user.suspended"),
    "unsuspend": Transition(frozenset({UserStatus.SUSPENDED}), UserStatus.ACTIVE, "user.activated"),
    "lock": Transition(frozenset({UserStatus.ACTIVE}), UserStatus.LOCKED, "user.locked"),
    "unlock": Transition(frozenset({UserStatus.LOCKED}), UserStatus.ACTIVE, "user.activated"),
}
#: Transitions that need a reason (for the audit trail), whoever asks: the API or the Django admin.
REASON_REQUIRED = frozenset({"lock"})
#: Operations refused on the super-admin user (the first admin ``porta_init`` created).
PROTECTED_ACTIONS = frozenset({"deactivate", "suspend", "lock", "purge"})

PROFILE_FIELDS = (
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile_url",
    "picture_url",
    "website_url",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
)
UPDATABLE_FIELDS = (*PROFILE_FIELDS, "external_id")

#: The audited view of a user, by wire name; never the password hash.
AUDITED = Audited(
    target_type="user",
    fields=wire_fields("email", "email_verified", "status", "external_id", *PROFILE_FIELDS),
    organization=lambda user: user.organization_id,
)


def protected_user_ids() -> frozenset:
    """The users no lifecycle action in PROTECTED_ACTIONS may touch (the super-admin user), as
    the apps built on organizations name them."""
    return frozenset().union(*(ids() for ids in extensions.protected_user_ids))


def _guard_protected(user: User, action: str) -> None:
    if action in PROTECTED_ACTIONS and user.id in protected_user_ids():
        raise Forbidden(protected_refusal(action))


def protected_refusal(action: str) -> str:
    return f"Cannot {action} the super-admin user"


def _require_accepting(organization: Organization) -> None:
    """Users join active organizations only: the rule clients and API keys follow too."""
    if organization_accepting_members(organization.id) is None:
        raise NotFound("Organization not found")


def _email_conflict(email: str) -> Conflict:
    return Conflict(
        f"A user with email '{email}' already exists in this organization",
        details={"email": ["Email already in use in this organization."]},
    )


def _external_id_conflict(external_id: str) -> Conflict:
    return Conflict(
        f"A user with externalId '{external_id}' already exists in this organization",
        details={"externalId": ["External id already in use in this organization."]},
    )


def _raise_conflict(organization_id, email: str | None, external_id: str | None, exc: Exception) -> None:
    if (
        email is not None
        and User.objects.filter(organization_id=organization_id, email__iexact=email).exists()
    ):
        raise _email_conflict(email) from exc
    if external_id is not None:
        raise _external_id_conflict(external_id) from exc
    raise exc


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    organization: Organization,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    email_verified: bool = False,
    **fields: Any,
) -> User:
    """Create a user. ``password`` is hashed with argon2id; ``password_hash`` is stored as given
    (already in Django's format, see user_serializers.django_password_hash). A suspended or
    archived organization takes no new users (422)."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    _require_accepting(organization)
    user = User(organization=organization, email=email, email_verified=email_verified, **fields)
    if password is not None:
        user.set_password(password)
        user.password_changed_at = timezone.now()
    elif password_hash is not None:
        user.password = password_hash
        user.password_changed_at = timezone.now()
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        _raise_conflict(organization.id, email, fields.get("external_id"), exc)
    AUDITED.record_created("user.created", actor=actor, row=user)
    return user


@transaction.atomic
def user_update(
    *, actor: Actor, user: User, precondition: Precondition | None = None, **changes: Any
) -> User:
    """Change profile fields and the external id. The email cannot be changed here."""
    user = lock(user, precondition)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    with AUDITED.change("user.updated", actor=actor, row=user):
        for name, value in changes.items():
            setattr(user, name, value)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            _raise_conflict(user.organization_id, None, changes.get("external_id"), exc)
    return user


def _record_reason(user: User, change: Change) -> None:
    """A user out of service says why; one back in service starts its failed logins afresh. A
    lock notes when it began (an automatic one ends ``lockout_duration`` later)."""
    active = change.transition.target == UserStatus.ACTIVE
    user.status_reason = "" if active else (change.reason or "")
    if active:
        user.failed_login_count = 0
    user.locked_at = change.now if change.transition.target == UserStatus.LOCKED else None
    change.save_fields += ["status_reason", "failed_login_count", "locked_at"]


USER_STATUS = StateMachine(
    noun="user", table=USER_TRANSITIONS, audited=AUDITED, guard=_guard_protected, effect=_record_reason
)
#: The lock the login service applies after too many wrong passwords in a row. The same row of the
#: table, without the guard: a brute-forced super-admin locks like anyone else.
AUTO_LOCKOUT = StateMachine(
    noun="user", table={"lock": USER_TRANSITIONS["lock"]}, audited=AUDITED, effect=_record_reason
)


#: The end of an automatic lock: the same row of the table as an administrator's unlock.
LOCKOUT_EXPIRY = StateMachine(
    noun="user", table={"unlock": USER_TRANSITIONS["unlock"]}, audited=AUDITED, effect=_record_reason
)
AUTO_LOCKOUT_REASON = "auto_lockout: too many failed logins"


def user_auto_lock(*, user: User, channel: str) -> User:
    """Lock an active account at ``max_failed_logins`` wrong passwords (the login service)."""
    return transition(
        AUTO_LOCKOUT,
        user,
        "lock",
        actor=Actor.system("auto_lockout"),
        reason=AUTO_LOCKOUT_REASON,
        metadata={"reason": "auto_lockout", "channel": channel},
    )


def auto_lock_expired(user: User, *, duration: int, now=None) -> bool:
    """Whether ``user`` holds an automatic lock older than ``duration`` seconds (0: never
    expires). A lock an administrator set, or one from before locks were timed, never does."""
    return (
        user.status == UserStatus.LOCKED
        and user.status_reason == AUTO_LOCKOUT_REASON
        and duration > 0
        and user.locked_at is not None
        and (now or timezone.now()) - user.locked_at >= timedelta(seconds=duration)
    )


def user_lockout_expire(*, user: User, duration: int) -> User:
    """End an automatic lock whose ``lockout_duration`` has passed (checked again on the locked
    row, so two logins racing unlock once); audited as ``user.activated`` by the system."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not auto_lock_expired(locked, duration=duration):
            return locked
        return transition(
            LOCKOUT_EXPIRY,
            locked,
            "unlock",
            actor=Actor.system("auto_lockout"),
            metadata={"reason": "lockout_expired", "lockoutDuration": duration},
        )


def user_transition(
    *,
    actor: Actor,
    user: User,
    action: str,
    reason: str | None = None,
    precondition: Precondition | None = None,
) -> User:
    """Apply one row of USER_TRANSITIONS; anything else is a 409 and changes nothing."""
    require_reason(action, reason)
    return transition(
        USER_STATUS,
        user,
        action,
        actor=actor,
        precondition=precondition,
        reason=reason,
        metadata=user_transition_metadata(action, reason),
    )


def require_reason(action: str, reason: str | None) -> None:
    """The transitions of REASON_REQUIRED say why (the API, the Django admin and bulk alike)."""
    if action in REASON_REQUIRED and not (reason or "").strip():
        raise ValidationFailed(
            f"A reason is required to {action} a user", details={"reason": ["This field is required."]}
        )


def user_transition_metadata(action: str, reason: str | None) -> dict[str, Any]:
    """What the audit entry of a user transition carries besides the change (bulk jobs that
    apply the table set-based write the same)."""
    return {"action": action, **({"reason": reason} if reason else {})}


@transaction.atomic
def user_set_password(*, actor: Actor, user: User, password: str) -> User:
    user = lock(user)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at", "updated_at"])
    AUDITED.record("user.password.set", actor=actor, row=user)
    return user


@transaction.atomic
def user_clear_password(*, actor: Actor, user: User) -> User:
    user = lock(user)
    user.set_unusable_password()
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at", "updated_at"])
    AUDITED.record("user.password.cleared", actor=actor, row=user)
    return user


@transaction.atomic
def user_verify_email(*, actor: Actor, user: User, precondition: Precondition | None = None) -> User:
    user = lock(user, precondition)
    if not user.email_verified:
        with AUDITED.change("user.email.verified", actor=actor, row=user):
            user.email_verified = True
            user.save(update_fields=["email_verified", "updated_at"])
    return user


@transaction.atomic
def user_export_recorded(*, actor: Actor, user: User) -> None:
    AUDITED.record("user.exported", actor=actor, row=user)


@transaction.atomic
def user_purge(*, actor: Actor, user: User, precondition: Precondition | None = None) -> User:
    """GDPR erasure: the audit trail keeps an anonymised record, every personal row goes.
    Role assignments, invitations (and later sessions, claim values) are deleted with the user."""
    user = lock(user, precondition)
    _guard_protected(user, "purge")
    purged_id = user.pk
    # The audit trail is append-only: the purge entry names the user by id only, no personal data.
    AUDITED.record("user.purged", actor=actor, row=user, metadata={"anonymised": True})
    user.delete()
    user.pk = purged_id
    user.email = ""
    return user


# -- batch -----------------------------------------------------------------------------------------


def _error(status: int, name: str, message: str) -> dict[str, Any]:
    return {"error": name, "message": message, "statusCode": status}


def user_batch_create(*, actor: Actor, organization: Organization, items: list[dict[str, Any]]) -> list[dict]:
    """Create the valid items of a batch with set-based SQL: one query for existing emails and
    external ids, one bulk INSERT, one bulk audit INSERT. ``items`` are validated dicts, or
    ``{"_error": {...}}`` for items that failed validation. Audit: one ``user.batch.created``
    entry per created user. A suspended or archived organization refuses the whole batch (422).

    Plaintext passwords are hashed first, on every core and outside the transaction (argon2id
    is by far the slowest part of a batch; no transaction should stay open for it)."""
    plaintext = [
        i for i, item in enumerate(items) if "_error" not in item and item.get("password") is not None
    ]
    hashes = hash_passwords([items[i]["password"] for i in plaintext])
    items = list(items)
    for index, encoded in zip(plaintext, hashes, strict=True):
        items[index] = {k: v for k, v in items[index].items() if k != "password"} | {"password_hash": encoded}
    return _batch_insert(actor=actor, organization=organization, items=items)


#: How often a batch re-checks and retries when a parallel write takes one of its emails or
#: external ids between the check and the insert (each retry needs a new parallel commit).
BATCH_RETRIES = 10
_USER_FIELDS = User._meta.concrete_fields
_USER_ATTNAMES = [field.attname for field in _USER_FIELDS]
_USER_ID = _USER_ATTNAMES.index("id")
_USER_POSITION = {attname: i for i, attname in enumerate(_USER_ATTNAMES)}
#: What a validated item may set on its row (the rest comes from the model's defaults).
_USER_ITEM_FIELDS = frozenset({*UPDATABLE_FIELDS, "email", "email_verified"})
_USER_JSON = [i for i, field in enumerate(_USER_FIELDS) if field.get_internal_type() == "JSONField"]


def _taken(organization: Organization, items: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """The batch's emails (lower-cased) and external ids already in the organization: one query
    per key."""
    emails = list({item["email"].lower() for item in items})
    external_ids = list({item["external_id"] for item in items if item.get("external_id")})
    if not copy_supported():  # SQLite: the ORM's IN lists
        users = User.objects.filter(organization=organization)
        taken_emails = set(users.annotate(e=Lower("email")).filter(e__in=emails).values_list("e", flat=True))
        taken_external = set(users.filter(external_id__in=external_ids).values_list("external_id", flat=True))
        return taken_emails, taken_external
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        # lower(email) = ANY(array): one parameter for the whole batch, on the unique index.
        cursor.execute(
            f"SELECT lower(email) FROM {table} WHERE organization_id = %s AND lower(email) = ANY(%s)",
            [organization.id, emails],
        )
        taken_emails = {email for (email,) in cursor.fetchall()}
        cursor.execute(
            f"SELECT external_id FROM {table} WHERE organization_id = %s AND external_id = ANY(%s)",
            [organization.id, external_ids],
        )
        taken_external = {external_id for (external_id,) in cursor.fetchall()}
    return taken_emails, taken_external


def _user_template(organization: Organization, now) -> tuple[list[Any], list[tuple[int, Any]]]:
    """A new user's row before its item: the model's constant defaults, the organization and the
    batch's clock reading, in ``_USER_FIELDS`` order; and the callable defaults (the id) to call
    per row, by position."""
    values = {f.attname: f.get_default() for f in _USER_FIELDS if f.has_default() and not callable(f.default)}
    values.update(organization_id=organization.id, email_verified=False, created_at=now, updated_at=now)
    per_row = [
        (i, f)
        for i, f in enumerate(_USER_FIELDS)
        if f.has_default() and callable(f.default) and f.attname not in values
    ]
    return [values.get(attname) for attname in _USER_ATTNAMES], per_row


def _user_values(item: dict[str, Any], now, template) -> list[Any]:
    """A new user's column values: the item's fields over the template, as ``User(...)`` and
    ``save()`` would store them."""
    row, per_row = list(template[0]), template[1]
    for position, field in per_row:
        row[position] = field.get_default()
    for name, value in item.items():
        if name in _USER_ITEM_FIELDS:
            row[_USER_POSITION[name]] = value
    if item.get("password_hash") is not None:
        row[_USER_POSITION["password"]] = item["password_hash"]
        row[_USER_POSITION["password_changed_at"]] = now
    else:
        row[_USER_POSITION["password"]] = _unusable_password()
    return row


def _unusable_password() -> str:
    """What ``set_unusable_password`` stores (the prefix and 40 random characters), from one
    call to the CSPRNG instead of forty (``make_password(None)`` takes 0.2 ms a user)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _batch_rows(
    organization: Organization, items: list[dict[str, Any]], now
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Per-item results and the rows to insert, against what the organization holds now."""
    results: list[dict[str, Any]] = [{"index": i} for i in range(len(items))]
    valid = [item for item in items if "_error" not in item]
    taken_emails, taken_external = _taken(organization, valid) if valid else (set(), set())
    rows: list[list[Any]] = []
    template = _user_template(organization, now)
    for index, item in enumerate(items):
        if "_error" in item:
            results[index]["error"] = item["_error"]
            continue
        email_key = item["email"].lower()
        external_id = item.get("external_id")
        if email_key in taken_emails:
            results[index]["error"] = _error(
                409, "Conflict", f"A user with email '{item['email']}' already exists"
            )
            continue
        if external_id and external_id in taken_external:
            results[index]["error"] = _error(
                409, "Conflict", f"A user with externalId '{external_id}' already exists"
            )
            continue
        taken_emails.add(email_key)
        if external_id:
            taken_external.add(external_id)
        rows.append(_user_values(item, now, template))
        results[index]["id"] = str(rows[-1][_USER_ID])
    return results, rows


@transaction.atomic
def _batch_insert(*, actor: Actor, organization: Organization, items: list[dict[str, Any]]) -> list[dict]:
    _require_accepting(organization)
    now = timezone.now()
    for attempt in range(BATCH_RETRIES + 1):
        results, rows = _batch_rows(organization, items, now)
        if not rows:
            return results
        try:
            # A savepoint: a parallel create that commits one of these emails first fails this
            # COPY only; the batch checks again and its item becomes a 409.
            with transaction.atomic():
                _insert_users(rows)
            break
        except (IntegrityError, OperationalError) as exc:
            if attempt == BATCH_RETRIES or not _is_race(exc):
                raise
    # The audit reads the new rows' attributes; a namespace is a tenth of the cost of a User.
    users = (SimpleNamespace(pk=row[_USER_ID], **dict(zip(_USER_ATTNAMES, row, strict=True))) for row in rows)
    AUDITED.record_created_many("user.batch.created", actor=actor, rows=users)
    rows_changed(AuditEntry)
    rows_changed(User)
    principals_changed()
    return results


def _insert_users(rows: list[list[Any]]) -> None:
    if not copy_supported():
        User.objects.bulk_create([User.from_db(None, _USER_ATTNAMES, row) for row in rows], batch_size=1000)
        return
    # Sorted by email, so two batches that share emails wait on each other in one order.
    email = _USER_ATTNAMES.index("email")
    ordered = sorted(rows, key=lambda row: row[email].lower())
    copy_rows(
        User,
        [field.column for field in _USER_FIELDS],
        ([json_value(v) if i in _USER_JSON else v for i, v in enumerate(row)] for row in ordered),
    )


def _is_race(exc: Exception) -> bool:
    """A unique violation or a deadlock: what a parallel write of the same email can cause."""
    return getattr(exc.__cause__, "sqlstate", None) in {"23505", "40P01"}
