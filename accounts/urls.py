from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("me/profile/", views.profile_edit, name="profile"),
    path("me/memberships/claim/", views.membership_claim, name="membership-claim"),
    path("staff/memberships/", views.membership_queue, name="membership-queue"),
    path("staff/memberships/<int:pk>/", views.membership_decide, name="membership-decide"),
    path("manage/guilds/", views.guild_list, name="guild-list"),
    path("manage/guilds/new/", views.guild_edit, name="guild-create"),
    path("manage/guilds/<slug:slug>/", views.guild_detail, name="guild-detail"),
    path("manage/guilds/<slug:slug>/edit/", views.guild_edit, name="guild-edit"),
    path("manage/guilds/<slug:slug>/staff/", views.staff_appoint, name="staff-appoint"),
    path(
        "manage/guilds/<slug:slug>/staff/<int:pk>/revoke/", views.staff_revoke, name="staff-revoke"
    ),
    path("manage/roles/", views.role_list, name="roles"),
    path(
        "manage/roles/registry-managers/", views.registry_manager_set, name="registry-manager-set"
    ),
]
