from django import forms
from django.contrib import admin

from porta.api.modeladmin import admin_actor, apply_to_each
from systemconfig import selectors, services
from systemconfig.models import ConfigEntry


@admin.action(description="Reset selected keys to their defaults", permissions=["change"])
def reset_to_default(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda actor, entry: services.config_set(actor=actor, key=entry.key, value=None),
        name=lambda entry: entry.key,
        done="reset: {} key(s) back to their defaults",
    )


class ConfigEntryForm(forms.ModelForm):
    """The value as JSON (``900``, ``true``; empty for the default), held to the key's type and
    bounds as in the API."""

    class Meta:
        model = ConfigEntry
        fields = ["value"]

    def clean_value(self):
        value = self.cleaned_data["value"]
        problem = self.instance.definition.problem(value) if value is not None else None
        if problem is not None:
            raise forms.ValidationError(problem)
        return value


@admin.register(ConfigEntry)
class ConfigEntryAdmin(admin.ModelAdmin):
    """Every key with its live value (sensitive ones masked). Changing a value goes through the
    same audited service as ``PUT /api/admin/config/{key}``; viewing needs ``admin:config:read``
    and changing ``admin:config:update`` (rbac maps Django's view/change permissions onto them)."""

    form = ConfigEntryForm
    list_display = ("key", "shown_value", "value_type", "overridden", "shown_default", "updated_at")
    search_fields = ("key",)
    fields = ("key", "description", "value_type", "bounds", "shown_default", "value", "updated_at")
    readonly_fields = ("key", "description", "value_type", "bounds", "shown_default", "updated_at")
    actions = [reset_to_default]

    def get_queryset(self, request):
        return selectors.config_entries()

    def has_add_permission(self, request):
        return False  # the keys are defined in code (porta/core/liveconfig.py)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is not None and obj.definition.sensitive:
            return [name for name in self.fields if name != "value"]
        return self.fields

    @admin.display(description="value")
    def shown_value(self, obj: ConfigEntry):
        return obj.shown_value

    @admin.display(description="default")
    def shown_default(self, obj: ConfigEntry):
        return obj.shown_default

    @admin.display(description="type")
    def value_type(self, obj: ConfigEntry):
        return obj.definition.value_type

    @admin.display(description="description")
    def description(self, obj: ConfigEntry):
        return obj.definition.description

    @admin.display(description="bounds")
    def bounds(self, obj: ConfigEntry):
        spec = obj.definition
        return "" if spec.minimum is None else f"{spec.minimum} … {spec.maximum} {spec.unit or ''}".strip()

    @admin.display(boolean=True)
    def overridden(self, obj: ConfigEntry):
        return obj.overridden

    def save_model(self, request, obj, form, change):
        services.config_set(actor=admin_actor(request), key=obj.key, value=obj.value)
