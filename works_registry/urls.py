"""Creators' sites (namespace ``sites``): theirs under /sites/, public pages under /s/."""

from django.urls import path

from . import views

app_name = "sites"

urlpatterns = [
    path("sites/", views.site_list, name="list"),
    path("sites/conflicts/<int:pk>/", views.site_conflict_detail, name="conflict-detail"),
    path("sites/conflicts/<int:pk>/resolve/", views.site_conflict_resolve, name="conflict-resolve"),
    path("sites/<str:public_id>/", views.site_detail, name="detail"),
    path("sites/<str:public_id>/status/", views.site_status, name="status"),
    path("sites/<str:public_id>/check/", views.site_check, name="check"),
    path("sites/<str:public_id>/remove/", views.site_remove, name="remove"),
    # The public page of a verified site: what anyone may read (no token, no email).
    path("s/<str:public_id>/", views.site_public, name="public"),
]
