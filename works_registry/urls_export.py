"""The registry export for the people of an AI developer (namespace ``registry-export``), under
/developer/registry-export/."""

from django.urls import path

from . import export_views

app_name = "registry-export"

urlpatterns = [
    path("", export_views.export_page, name="page"),
    path("progress/", export_views.export_progress, name="progress"),
    path("build/", export_views.export_build, name="build"),
    path("download/", export_views.export_download, name="download"),
]
