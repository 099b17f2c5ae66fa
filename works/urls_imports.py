"""Catalogue imports, under ``works/imports/`` in the ``works`` namespace."""

from django.urls import path

from .views import imports

urlpatterns = [
    path("", imports.import_list, name="import-list"),
    path("new/", imports.import_create, name="import-create"),
    path("template.csv", imports.import_template, name="import-template"),
    path("<int:pk>/", imports.import_detail, name="import-detail"),
    path("<int:pk>/progress/", imports.import_progress, name="import-progress"),
    path("<int:pk>/errors.csv", imports.import_errors, name="import-errors"),
]
