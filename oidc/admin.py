from django.contrib import admin, messages

from audit.context import Actor
from oidc import session_services
from oidc.models import Session
from porta.admin import ReadOnlyModelAdmin
from porta.api.errors import ApiError


@admin.action(description="Revoke selected sessions", permissions=["revoke"])
def revoke_selected(modeladmin, request, queryset):
    actor = Actor(type="user", id=request.user.id, label=request.user.email)
    done = 0
    for session in queryset:
        try:
            if session.revoked_at is None:
                session_services.session_revoke(actor=actor, session=session)
                done += 1
        except ApiError as exc:
            modeladmin.message_user(request, f"{session.id}: {exc.message}", messages.ERROR)
    modeladmin.message_user(request, f"revoke: {done} session(s) revoked")


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
