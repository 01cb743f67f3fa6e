"""``porta_init``: the super-admin organization, the admin application with its roles and
permissions, the ``porta-cli`` client, the first signing key and the first admin. Idempotent:
every step creates only what is missing, and each creation is audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from applications.models import Application, Client
from audit import services as audit
from keys.models import SigningKey, SigningKeyStatus
from keys.services import signing_key_generate
from organizations.models import Organization, User
from organizations.services import RESERVED_ORG_SLUGS
from porta.core.context import Actor
from porta.core.invalidation import principals_changed
from porta.core.slugs import slug_problem
from rbac.admin_roles import ADMIN_APP_SLUG, ADMIN_ROLES, ALL_ADMIN_PERMISSIONS
from rbac.models import Permission, Role, RolePermission, UserRole

CLI_CLIENT_ID = "porta-cli"
SUPER_ADMIN_ROLE = "porta-super-admin"
ACTOR = Actor.system("porta_init")
CREATESUPERUSER_ACTOR = Actor.system("createsuperuser")


@dataclass
class InitReport:
    created: list[str] = field(default_factory=list)
    admin_email: str = ""
    admin_created: bool = False


def is_initialized() -> bool:
    return (
        Organization.objects.filter(is_super_admin=True).exists()
        and Application.objects.filter(slug=ADMIN_APP_SLUG).exists()
    )


def _created(
    report: InitReport,
    what: str,
    *,
    event_type: str,
    target_type: str,
    target_id,
    org_id=None,
    actor: Actor = ACTOR,
) -> None:
    report.created.append(what)
    audit.record(
        event_type=event_type,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        organization_id=org_id,
    )


@transaction.atomic
def porta_init(*, admin_email: str, admin_password: str, slug: str = "porta-admin") -> InitReport:
    report = InitReport(admin_email=admin_email)
    organization = Organization.objects.filter(is_super_admin=True).first()
    if organization is None:
        problem = slug_problem(slug, RESERVED_ORG_SLUGS)
        if problem is not None:
            raise ValueError(f"Invalid super-admin organization slug: {problem}")
        organization = Organization.objects.create(name="Porta Admin", slug=slug, is_super_admin=True)
        _created(report, f"super-admin organization '{slug}'", event_type="org.created",
                 target_type="organization", target_id=organization.id, org_id=organization.id)  # fmt: skip

    application, made = Application.objects.get_or_create(
        slug=ADMIN_APP_SLUG, defaults={"name": "Porta Admin", "description": "Porta's own admin API"}
    )
    if made:
        _created(report, "application 'porta-admin'", event_type="app.created", target_type="application",
                 target_id=application.id)  # fmt: skip

    permissions = {p.slug: p for p in Permission.objects.filter(application=application)}
    new_permissions = sorted(ALL_ADMIN_PERMISSIONS - set(permissions))
    for slug_ in new_permissions:
        permissions[slug_] = Permission.objects.create(application=application, slug=slug_, name=slug_)
        _created(report, f"permission {slug_}", event_type="permission.created", target_type="permission",
                 target_id=permissions[slug_].id)  # fmt: skip
    for role_slug, (name, description, granted) in ADMIN_ROLES.items():
        role, made = Role.objects.get_or_create(
            application=application,
            slug=role_slug,
            defaults={"name": name, "description": description, "is_system": True},
        )
        # A new role gets its whole grant; an existing one only the permissions new in this run (an
        # upgrade that grew the catalogue), so links an operator removed on purpose stay removed.
        linked = sorted(granted) if made else [p for p in new_permissions if p in granted]
        RolePermission.objects.bulk_create(
            [RolePermission(role=role, permission=permissions[p]) for p in linked]
        )
        if made:
            _created(
                report, f"role {role_slug}", event_type="role.created", target_type="role", target_id=role.id
            )

    if not Client.objects.filter(client_id=CLI_CLIENT_ID).exists():
        client = Client.objects.create(
            organization=organization,
            application=application,
            client_id=CLI_CLIENT_ID,
            client_name="Porta CLI",
            client_type="public",
            application_type="native",
            redirect_uris=["http://127.0.0.1:8765/callback", "http://localhost:8765/callback"],
            grant_types=["password", "refresh_token", "authorization_code"],
            response_types=["code"],
            scope="openid profile email offline_access",
            token_endpoint_auth_method="none",
            require_pkce=True,
        )
        _created(report, "client 'porta-cli'", event_type="client.created", target_type="client",
                 target_id=client.id, org_id=organization.id)  # fmt: skip

    if not SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).exists():
        signing_key_generate(actor=ACTOR)
        report.created.append("ES256 signing key")

    super_role = Role.objects.get(application=application, slug=SUPER_ADMIN_ROLE)
    if not UserRole.objects.filter(role=super_role).exists():
        _make_super_admin(report, organization, super_role, admin_email, admin_password, actor=ACTOR)
    principals_changed()  # role links were bulk-created, bypassing model signals
    return report


def _make_super_admin(
    report: InitReport, organization: Organization, role: Role, email: str, password: str, *, actor: Actor
) -> None:
    """``email`` (a user of the super-admin organization, made if missing) holds ``role``."""
    user = User.objects.filter(organization=organization, email__iexact=email).first()
    if user is None:
        user = User(organization=organization, email=email, email_verified=True)
        user.set_password(password)
        user.save(force_insert=True)
        report.admin_created = True
        _created(report, f"admin user {email}", event_type="user.created", target_type="user",
                 target_id=user.id, org_id=organization.id, actor=actor)  # fmt: skip
    UserRole.objects.create(user=user, role=role)
    _created(report, f"role {role.slug} for {email}", event_type="user.role.assigned",
             target_type="user", target_id=user.id, org_id=organization.id, actor=actor)  # fmt: skip


@transaction.atomic
def super_admin_create(*, email: str, password: str) -> InitReport:
    """Django's ``createsuperuser``: one more super-admin, made as ``porta_init`` makes the first.

    Whatever ``porta_init`` would create is created first (on a fresh database ``email`` simply
    becomes the first admin); otherwise ``email`` becomes a new user of the super-admin
    organization holding porta-super-admin. An address already used there is refused rather than
    silently promoted: granting roles to an existing user is the API's job.
    """
    if User.objects.filter(organization__is_super_admin=True, email__iexact=email).exists():
        raise ValueError(f"A user with the e-mail {email} already exists in the super-admin organization")
    report = porta_init(admin_email=email, admin_password=password)
    if not report.admin_created:
        organization = Organization.objects.get(is_super_admin=True)
        role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=SUPER_ADMIN_ROLE)
        _make_super_admin(report, organization, role, email, password, actor=CREATESUPERUSER_ACTOR)
        principals_changed()
    return report
