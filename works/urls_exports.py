"""The creator's catalogue as a download (``works:export-csv``, ``works:export-json``)."""

from django.urls import path

from .views import exports

urlpatterns = [
    path("catalogue.csv", exports.export_csv, name="export-csv"),
    path("catalogue.json", exports.export_json, name="export-json"),
]
