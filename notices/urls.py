from django.urls import path

from . import views

app_name = "notices"

# "new" and "confirm" are reserved slugs (see ``services.RESERVED_SLUGS``).
urlpatterns = [
    path("", views.developer_list, name="developer-list"),
    path("new/", views.developer_create, name="developer-create"),
    path("confirm/<str:token>/", views.contact_confirm, name="contact-confirm"),
    path("<slug:slug>/", views.developer_detail, name="developer-detail"),
    path("<slug:slug>/edit/", views.developer_edit, name="developer-edit"),
    path("<slug:slug>/contacts/add/", views.contact_add, name="contact-add"),
    path("<slug:slug>/contacts/<int:pk>/resend/", views.contact_resend, name="contact-resend"),
    path("<slug:slug>/contacts/<int:pk>/remove/", views.contact_remove, name="contact-remove"),
]
