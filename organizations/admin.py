from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.db import models
from django.template.response import TemplateResponse

from organizations import services, user_services
from organizations.api.user_views import UserViewSet
from organizations.api.views import OrganizationViewSet
from organizations.models import Organization, User
from porta.api.modeladmin import ApiPermissionActions, ReadOnlyModelAdmin, admin_actor, apply_to_each

# Porta's authorization is its admin roles (rbac), not Django groups: nothing reads a Group.
admin.site.unregister(Group)


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
    run.api_permission = OrganizationViewSet.permission_map[action_name]
    return run


@admin.register(Organization)
class OrganizationAdmin(ApiPermissionActions, admin.ModelAdmin):
    # Scheme-less URLs typed into the form mean https (Django 6's default, chosen explicitly now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "slug", "status", "is_super_admin", "created_at")
    list_filter = ("status", "is_super_admin")
    search_fields = ("name", "slug")
    readonly_fields = ("id", "slug", "status", "is_super_admin", "created_at", "updated_at")
    ordering = ("-created_at",)
    # Every lifecycle transition the API offers, and only those: the rows of the table.
    actions = [_transition_action(name) for name in services.ORGANIZATION_TRANSITIONS]

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


class ReasonForm(forms.Form):
    """The reason the API's lifecycle actions take, asked for on a confirmation page."""

    reason = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _user_transition_action(action_name: str):
    """The API's ``POST /users/{id}/<action>`` for each selected user: a confirmation page asks
    for the reason (required where the service requires one), then ``user_transition`` runs on
    every user, guarded and audited as for the API."""
    reason_required = action_name in user_services.REASON_REQUIRED

    def run(modeladmin, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        form.fields["reason"].required = reason_required
        if not form.is_valid():
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": f"{action_name.capitalize()} users",
                "opts": modeladmin.model._meta,
                "action_name": action_name,
                "action_function": run.__name__,
                "users": queryset.select_related("organization"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/organizations/user/transition.html", context)
        reason = form.cleaned_data["reason"] or None
        apply_to_each(
            modeladmin,
            request,
            queryset,
            lambda actor, user: user_services.user_transition(
                actor=actor, user=user, action=action_name, reason=reason
            ),
            name=lambda user: user.email,
            done=f"{action_name}: {{}} user(s) changed",
        )
        return None

    run.__name__ = f"{action_name}_selected"
    run.short_description = f"{action_name.capitalize()} selected users"
    run.api_permission = UserViewSet.permission_map[action_name]
    return run


@admin.register(User)
class UserAdmin(ApiPermissionActions, ReadOnlyModelAdmin):
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
    # Every lifecycle transition the API offers, and only those.
    actions = [_user_transition_action(name) for name in user_services.USER_TRANSITIONS]
