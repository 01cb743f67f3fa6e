from django.contrib import admin

from oidc import session_services
from oidc.models import AuthorizationCode, Session
from porta.api.modeladmin import ReadOnlyModelAdmin, apply_to_each


@admin.action(description="Revoke selected sessions", permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset.filter(revoked_at__isnull=True),
        lambda actor, session: session_services.session_revoke(actor=actor, session=session),
        name=lambda session: str(session.id),
        done="revoke: {} session(s) revoked",
    )


@admin.register(Session)
class SessionAdmin(ReadOnlyModelAdmin):
    """Read-only; revoking goes through the same service as the API (refresh tokens, revocation
    list, audit)."""

    list_display = ("created_at", "user", "client", "organization", "ip_address", "expires_at", "revoked_at")
    list_filter = ("organization",)
    search_fields = ("id", "user__email", "ip_address")
    list_select_related = ("user", "client", "organization")
    ordering = ("-created_at",)
    show_full_result_count = False
    actions = [revoke_selected]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("oidc.change_session")


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(ReadOnlyModelAdmin):
    """Read-only, and never the code's hash: codes live a minute and are spent by the token
    endpoint alone."""

    list_display = ("created_at", "user", "client", "organization", "expires_at", "used_at")
    list_filter = ("organization",)
    search_fields = ("id", "user__email", "client__client_id")
    list_select_related = ("user", "client", "organization")
    ordering = ("-created_at",)
    show_full_result_count = False
    exclude = ("code_hash", "code_challenge", "nonce")

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.exclude)
        return [field.name for field in self.model._meta.fields if field.name not in hidden]
