from django.urls import path

from . import views, views_deliveries

app_name = "notices"

# "new", "confirm" and "deliveries" are reserved slugs (see ``services.RESERVED_SLUGS``).
urlpatterns = [
    path("", views.developer_list, name="developer-list"),
    path("new/", views.developer_create, name="developer-create"),
    path("confirm/<str:token>/", views.contact_confirm, name="contact-confirm"),
    # The notice engine's staff pages.
    path("deliveries/", views_deliveries.delivery_list, name="delivery-list"),
    path("deliveries/stats/", views_deliveries.delivery_stats, name="delivery-stats"),
    path("deliveries/suppressions/", views_deliveries.suppression_list, name="suppression-list"),
    path(
        "deliveries/suppressions/<int:pk>/clear/",
        views_deliveries.suppression_clear_view,
        name="suppression-clear",
    ),
    path("deliveries/<int:pk>/", views_deliveries.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/retry/", views_deliveries.delivery_retry, name="delivery-retry"),
    path("<slug:slug>/", views.developer_detail, name="developer-detail"),
    path("<slug:slug>/edit/", views.developer_edit, name="developer-edit"),
    path("<slug:slug>/contacts/add/", views.contact_add, name="contact-add"),
    path("<slug:slug>/contacts/<int:pk>/resend/", views.contact_resend, name="contact-resend"),
    path("<slug:slug>/contacts/<int:pk>/remove/", views.contact_remove, name="contact-remove"),
    path("<slug:slug>/invitations/new/", views.invitation_create, name="invitation-create"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("<slug:slug>/people/<int:pk>/remove/", views.member_remove, name="member-remove"),
]
