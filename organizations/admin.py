from django.contrib import admin
from django.db import models

from organizations import services
from organizations.models import Organization, User
from porta.admin import ReadOnlyModelAdmin, admin_actor, apply_to_each


def _transition_action(action_name: str):
    def run(modeladmin, request, queryset):
        apply_to_each(
            modeladmin,
            request,
            queryset,
            lambda actor, organization: services.organization_transition(
                actor=actor, organization=organization, action=action_name
            ),
            name=lambda organization: organization.slug,
            done=f"{action_name}: {{}} organization(s) changed",
        )

    run.__name__ = f"{action_name}_selected"
    run.short_description = f"{action_name.capitalize()} selected organizations"
    run.allowed_permissions = ("change",)
    return run


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    # Scheme-less URLs typed into the form mean https (Django 6's default, chosen explicitly now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "slug", "status", "is_super_admin", "created_at")
    list_filter = ("status", "is_super_admin")
    search_fields = ("name", "slug")
    readonly_fields = ("id", "slug", "status", "is_super_admin", "created_at", "updated_at")
    ordering = ("-created_at",)
    actions = [_transition_action(name) for name in ("suspend", "activate", "archive", "restore")]

    def has_add_permission(self, request):  # creation goes through the API (slug rules, audit)
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("name", "default_locale", "default_login_methods")}
        branding = {
            key: form.cleaned_data[field]
            for key, field in services.BRANDING_FIELDS.items()
            if field in form.cleaned_data
        }
        services.organization_update(actor=admin_actor(request), organization=obj, branding=branding, **data)


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("email", "organization", "status", "email_verified", "created_at")
    list_filter = ("status",)
    search_fields = ("email", "given_name", "family_name")
    list_select_related = ("organization",)
    exclude = ("password",)  # never show a hash
    readonly_fields = (
        "id",
        "organization",
        "status",
        "failed_login_count",
        "last_login",
        "created_at",
        "updated_at",
    )
