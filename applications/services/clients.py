"""Writes to OIDC clients and their secrets: business rules, state changes and their audit entries,
one transaction each. Plaintext secrets leave this module once, as the return value of a create;
only their keyed hashes are stored, and neither ever reaches the audit trail."""

from __future__ import annotations

import datetime
import hmac
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from applications.models import (
    Application,
    Client,
    ClientSecret,
    ClientSecretStatus,
    ClientStatus,
)
from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields
from organizations.models import Organization
from organizations.services import organization_accepting_members
from porta.core import liveconfig
from porta.core.context import Actor
from porta.core.errors import Conflict, UnprocessableEntity, ValidationFailed
from porta.core.tokens import keyed_hash, new_secret

CLIENT_TYPES = ("confidential", "public")
APPLICATION_TYPES = ("web", "native", "spa")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "password")
RESPONSE_TYPES = ("code", "id_token", "code id_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
#: Which token endpoint authentication methods each client type may register.
AUTH_METHODS_BY_TYPE = {
    "confidential": frozenset({"client_secret_basic", "client_secret_post"}),
    "public": frozenset({"none"}),
}
MAX_REDIRECT_URIS = 10
CLIENT_ID_BYTES = 32  # 256 bits
SECRET_BYTES = 48  # 384 bits
SECRET_WARNING = "Store the secret securely. It will not be shown again."

#: action → (statuses it is allowed from, status it leads to, audit event)
CLIENT_TRANSITIONS: dict[str, Transition] = {
    "activate": Transition(frozenset({ClientStatus.INACTIVE}), ClientStatus.ACTIVE, "client.activated"),
    "deactivate": Transition(frozenset({ClientStatus.ACTIVE}), ClientStatus.INACTIVE, "client.deactivated"),
    "revoke": Transition(
        frozenset({ClientStatus.ACTIVE, ClientStatus.INACTIVE}),
        ClientStatus.REVOKED,
        "client.revoked",
    ),
}
#: A secret is revoked once, for good.
CLIENT_SECRET_TRANSITIONS: dict[str, Transition] = {
    "revoke": Transition(
        frozenset({ClientSecretStatus.ACTIVE}), ClientSecretStatus.REVOKED, "client.secret.revoked"
    ),
}

#: Fields a PUT may change, by model name.
UPDATABLE_FIELDS = (
    "client_name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "response_types",
    "scope",
    "token_endpoint_auth_method",
    "allowed_origins",
    "require_pkce",
    "login_methods",
)
#: Fields fixed at creation; a PUT may repeat them (a GET-modify-PUT round trip) but not change them.
IMMUTABLE_FIELDS = {
    "client_type": "clientType",
    "application_type": "applicationType",
    "client_id": "clientId",
    "organization_id": "organizationId",
    "application_id": "applicationId",
}

#: Every field a caller can set, under its API name. No secrets.
AUDITED = Audited(
    target_type="client",
    fields=wire_fields("client_id", "client_type", "application_type", *UPDATABLE_FIELDS, "status"),
    organization=lambda client: client.organization_id,
)
#: A secret's entries name its client; the secret itself only by id and label.
SECRET_AUDITED = Audited(
    target_type="client",
    fields=wire_fields("status"),
    organization=lambda secret: secret.client.organization_id,
    target_id=lambda secret: secret.client_id,
    metadata=lambda secret: {"secretId": secret.id, "label": secret.label},
)

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
#: Schemes that run code or read local data in a browser: never a redirect target.
_DANGEROUS_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})


# -- validation -----------------------------------------------------------------------------------


def redirect_uri_problem(uri: str, application_type: str) -> str | None:
    """Why ``uri`` may not be a redirect target, or None. Exact-match URIs only (RFC 9700 §4.1):
    no wildcards, no fragments; https except on loopback, or a private-use scheme for native apps
    (RFC 8252 §7.1)."""
    if "*" in uri:
        return f"{uri}: wildcards (*) are not allowed"
    if "#" in uri:
        return f"{uri}: must not contain a fragment"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in uri):
        return f"{uri}: must not contain whitespace or control characters"
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:
        return f"{uri}: is not a valid URI"
    scheme = parts.scheme.lower()
    if not scheme or not _SCHEME.fullmatch(scheme):
        return f"{uri}: must be an absolute URI"
    if scheme in ("http", "https"):
        if not hostname:
            return f"{uri}: must name a host"
        if parts.username is not None or parts.password is not None:
            return f"{uri}: must not contain credentials"
        if scheme == "http" and hostname not in _LOOPBACK_HOSTS:
            return f"{uri}: must use https (http is allowed only for localhost)"
        return None
    if application_type != "native":
        return f"{uri}: must use https (custom schemes are allowed only for native applications)"
    if scheme in _DANGEROUS_SCHEMES:
        return f"{uri}: the {scheme} scheme is not allowed"
    if not (parts.netloc or parts.path):
        return f"{uri}: must name a path"
    return None


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` is not an origin (``scheme://host[:port]``), or None."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"{origin}: is not a valid origin"
    if parts.scheme not in ("http", "https") or not hostname:
        return f"{origin}: must be scheme://host[:port] with http or https"
    if "*" in origin or parts.username is not None or parts.password is not None:
        return f"{origin}: must be scheme://host[:port]"
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return f"{origin}: an origin has no path, query or fragment"
    return None


def _check_uris(field: str, uris: list[str], application_type: str) -> None:
    problems = [p for uri in uris if (p := redirect_uri_problem(uri, application_type)) is not None]
    if problems:
        raise ValidationFailed(f"Invalid {field}: {problems[0]}", details={field: problems})


def _validate(client: Client) -> None:
    """The rules that relate fields to each other; field types and sizes are the serializer's."""
    _check_uris("redirectUris", client.redirect_uris, client.application_type)
    _check_uris("postLogoutRedirectUris", client.post_logout_redirect_uris, client.application_type)
    problems = [p for origin in client.allowed_origins if (p := origin_problem(origin)) is not None]
    if problems:
        raise ValidationFailed(f"Invalid allowedOrigins: {problems[0]}", details={"allowedOrigins": problems})
    if client.token_endpoint_auth_method not in AUTH_METHODS_BY_TYPE[client.client_type]:
        allowed = ", ".join(sorted(AUTH_METHODS_BY_TYPE[client.client_type]))
        message = f"A {client.client_type} client must use tokenEndpointAuthMethod {allowed}"
        raise ValidationFailed(message, details={"tokenEndpointAuthMethod": [message]})
    if client.client_type == "public" and "client_credentials" in client.grant_types:
        message = "A public client cannot use the client_credentials grant"
        raise ValidationFailed(message, details={"grantTypes": [message]})


def _default_grant_types(client_type: str, application_type: str) -> list[str]:
    if client_type == "confidential" and application_type == "web":
        return ["authorization_code", "refresh_token", "client_credentials"]
    return ["authorization_code", "refresh_token"]


def _not_found(field: str, label: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"{label} not found", details={field: [f"{label} not found."]})


def _active_organization(pk: uuid.UUID) -> Organization:
    organization = organization_accepting_members(pk, field="organizationId")
    if organization is None:
        raise _not_found("organizationId", "Organization")
    return organization


def _active_application(pk: uuid.UUID) -> Application:
    application = Application.objects.filter(pk=pk).first()
    if application is None:
        raise _not_found("applicationId", "Application")
    if application.status != "active":
        message = f"Application is {application.status}"
        raise UnprocessableEntity(message, details={"applicationId": [message + "."]})
    return application


# -- clients --------------------------------------------------------------------------------------


def _new_secret_row(client: Client, *, label: str, expires_at: datetime.datetime | None):
    plaintext = new_secret(SECRET_BYTES)
    row = ClientSecret(client=client, label=label, secret_hash=keyed_hash(plaintext), expires_at=expires_at)
    row.save(force_insert=True)
    return row, plaintext


@transaction.atomic
def client_create(
    *,
    actor: Actor,
    organization_id: uuid.UUID,
    application_id: uuid.UUID,
    client_name: str,
    client_type: str,
    application_type: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    grant_types: list[str] | None = None,
    response_types: list[str] | None = None,
    scope: str | None = None,
    token_endpoint_auth_method: str | None = None,
    allowed_origins: list[str] | None = None,
    require_pkce: bool | None = None,
    login_methods: list[str] | None = None,
    secret_label: str | None = None,
    client_id: str | None = None,
    initial_secret: bool = True,
) -> tuple[Client, str | None]:
    """Register a client of an active application for an active organization. A confidential
    client gets its first secret at once; the plaintext is returned here and nowhere else.
    ``client_id`` is generated unless given (porta_init's well-known ``porta-cli``, an imported
    client's). ``initial_secret=False`` (a manifest import, which never carries or shows secrets)
    creates a confidential client without one: its admin adds one through ``/secrets``. PKCE is
    required unless said otherwise, as the live ``require_pkce`` says."""
    organization = _active_organization(organization_id)
    application = _active_application(application_id)
    client = Client(
        organization=organization,
        application=application,
        client_id=client_id or new_secret(CLIENT_ID_BYTES),
        client_name=client_name,
        client_type=client_type,
        application_type=application_type,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris or [],
        grant_types=grant_types or _default_grant_types(client_type, application_type),
        response_types=response_types or ["code"],
        scope=scope if scope is not None else "openid profile email",
        token_endpoint_auth_method=token_endpoint_auth_method
        or ("client_secret_basic" if client_type == "confidential" else "none"),
        allowed_origins=allowed_origins or [],
        require_pkce=liveconfig.get("require_pkce") if require_pkce is None else require_pkce,
        login_methods=login_methods,
    )
    _validate(client)
    client.save(force_insert=True)
    plaintext, metadata = None, None
    if client_type == "confidential" and initial_secret:
        row, plaintext = _new_secret_row(client, label=secret_label or "Initial secret", expires_at=None)
        metadata = {"initialSecretId": row.id}
    AUDITED.record_created("client.created", actor=actor, row=client, metadata=metadata)
    return client, plaintext


def _lockable_clients():
    """A client is locked alone (``of=self``) but read with what its representation shows."""
    return Client.objects.select_for_update(of=("self",)).select_related("organization", "application")


@transaction.atomic
def client_update(
    *,
    actor: Actor,
    client: Client,
    precondition: Precondition | None = None,
    **changes: Any,
) -> Client:
    """Change the settings of a client. Its ids and types are fixed; a revoked client is final."""
    client = lock(client, precondition, queryset=_lockable_clients())
    for field, wire in IMMUTABLE_FIELDS.items():
        if field in changes and str(changes.pop(field)) != str(getattr(client, field)):
            raise ValidationFailed(f"{wire} cannot be changed", details={wire: ["Immutable."]})
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    if client.status == ClientStatus.REVOKED:
        raise Conflict("Cannot update a revoked client")
    with AUDITED.change("client.updated", actor=actor, row=client):
        for name, value in changes.items():
            setattr(client, name, value)
        _validate(client)
        client.save()
    return client


CLIENT_STATUS = StateMachine(
    noun="client", table=CLIENT_TRANSITIONS, audited=AUDITED, locking=_lockable_clients
)


def client_transition(
    *,
    actor: Actor,
    client: Client,
    action: str,
    precondition: Precondition | None = None,
) -> Client:
    """Apply one row of CLIENT_TRANSITIONS; anything else is a 409 and changes nothing."""
    return transition(CLIENT_STATUS, client, action, actor=actor, precondition=precondition)


# -- secrets --------------------------------------------------------------------------------------


@transaction.atomic
def client_secret_create(
    *,
    actor: Actor,
    client: Client,
    label: str = "",
    expires_at: datetime.datetime | None = None,
) -> tuple[ClientSecret, str]:
    """Add a secret beside the client's others (rotation without downtime). Returns the row and
    the plaintext, which is not stored."""
    client = lock(client, queryset=_lockable_clients())
    if client.client_type != "confidential":
        raise UnprocessableEntity(
            "Only confidential clients have secrets", details={"clientType": ["Must be confidential."]}
        )
    if client.status == ClientStatus.REVOKED:
        raise Conflict("Cannot add a secret to a revoked client")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "expiresAt must be in the future", details={"expiresAt": ["Must be in the future."]}
        )
    row, plaintext = _new_secret_row(client, label=label, expires_at=expires_at)
    SECRET_AUDITED.record(
        "client.secret.generated", actor=actor, row=row, metadata={"expiresAt": row.expires_at}
    )
    return row, plaintext


def _stamp_revocation(secret: ClientSecret, change: Change) -> None:
    secret.revoked_at = change.now
    change.save_fields.append("revoked_at")


CLIENT_SECRET_STATUS = StateMachine(
    noun="secret",
    table=CLIENT_SECRET_TRANSITIONS,
    audited=SECRET_AUDITED,
    # The secret and its client, as before the engine: a revocation waits for a client write.
    locking=lambda: ClientSecret.objects.select_for_update().select_related("client"),
    effect=_stamp_revocation,
    refusal="Secret is already {state}",
)


def client_secret_revoke(*, actor: Actor, secret: ClientSecret) -> ClientSecret:
    return transition(CLIENT_SECRET_STATUS, secret, "revoke", actor=actor)


@transaction.atomic
def client_secret_verify(*, client_id: str, secret: str) -> Client | None:
    """The active client ``client_id`` when ``secret`` is one of its active, unexpired secrets.

    The presented value is compared with every candidate in constant time, without stopping at
    the first match, so neither timing nor the number of secrets tells an attacker anything."""
    client = Client.objects.select_related("organization", "application").filter(client_id=client_id).first()
    if client is None:
        return None
    actor = Actor(type="client", id=client.id, label=client.client_id)
    if client.status != ClientStatus.ACTIVE:
        AUDITED.record(
            "client.secret.failed", actor=actor, row=client, metadata={"reason": f"client_{client.status}"}
        )
        return None
    now = timezone.now()
    candidates = ClientSecret.objects.filter(client=client, status=ClientSecretStatus.ACTIVE).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    presented = keyed_hash(secret)
    matched: uuid.UUID | None = None
    for secret_id, stored_hash in candidates.values_list("id", "secret_hash"):
        if hmac.compare_digest(presented, stored_hash) and matched is None:
            matched = secret_id
    if matched is None:
        AUDITED.record("client.secret.failed", actor=actor, row=client, metadata={"reason": "invalid_secret"})
        return None
    ClientSecret.objects.filter(pk=matched).update(last_used_at=now)
    AUDITED.record("client.secret.verified", actor=actor, row=client, metadata={"secretId": matched})
    return client
