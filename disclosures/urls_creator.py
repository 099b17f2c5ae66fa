"""The creator's "Found in datasets" pages (namespace ``findings``), mounted by portal/urls.py at
``/found-in-datasets/``."""

from django.urls import path

from . import views_creator as views

app_name = "findings"

urlpatterns = [
    path("", views.finding_list, name="list"),
    path("selected/", views.findings_selected, name="selected"),
    path("<int:pk>/confirm/", views.finding_confirm, name="confirm"),
    path("<int:pk>/dismiss/", views.finding_dismiss, name="dismiss"),
]
