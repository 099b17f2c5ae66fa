"""Read-only: edits go through the portal's registry and delivery pages, which audit them
and have new addresses confirmed. The admin is for looking."""

from django.contrib import admin

from .models import AIDeveloper, Delivery, DeveloperContact, Suppression


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeveloperContactInline(admin.TabularInline):
    model = DeveloperContact
    fields = ["email", "label", "added_at", "confirmed_at", "removed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AIDeveloper)
class AIDeveloperAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "website", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "crawler_user_agents"]
    inlines = [DeveloperContactInline]


@admin.register(DeveloperContact)
class DeveloperContactAdmin(ReadOnlyAdmin):
    list_display = ["email", "developer", "label", "confirmed_at", "removed_at"]
    list_filter = ["confirmed_at", "removed_at"]
    search_fields = ["email", "developer__name"]
    list_select_related = ["developer"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "notice", "channel", "status", "attempts", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["recipient", "notice__topic", "notice__key"]
    list_select_related = ["notice__developer"]


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    list_display = ["address", "code", "created_at", "cleared_at"]
    search_fields = ["address"]
