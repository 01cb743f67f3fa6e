"""factory_boy factories, one module per app, for every model: rows a test needs but does not
create through the API. ``tests/test_factories.py`` keeps the list complete."""

from tests.factories.apikeys import AdminApiKeyFactory
from tests.factories.applications import (
    ApplicationFactory,
    ClaimDefinitionFactory,
    ClaimValueFactory,
    ClientFactory,
    ClientSecretFactory,
    ModuleFactory,
)
from tests.factories.audit import AuditEntryFactory
from tests.factories.courier import AttemptFactory, MessageFactory
from tests.factories.keys import SigningKeyFactory
from tests.factories.oidc import AuthorizationCodeFactory, RefreshTokenFactory, SessionFactory
from tests.factories.organizations import InvitationFactory, OrganizationFactory, UserFactory
from tests.factories.rbac import PermissionFactory, RoleFactory, RolePermissionFactory, UserRoleFactory
from tests.factories.recovery import RecoveryTokenFactory

__all__ = [
    "AdminApiKeyFactory",
    "ApplicationFactory",
    "AttemptFactory",
    "AuditEntryFactory",
    "ClaimDefinitionFactory",
    "ClaimValueFactory",
    "ClientFactory",
    "ClientSecretFactory",
    "InvitationFactory",
    "MessageFactory",
    "ModuleFactory",
    "OrganizationFactory",
    "PermissionFactory",
    "RecoveryTokenFactory",
    "AuthorizationCodeFactory",
    "RefreshTokenFactory",
    "RoleFactory",
    "RolePermissionFactory",
    "SessionFactory",
    "SigningKeyFactory",
    "UserFactory",
    "UserRoleFactory",
]
