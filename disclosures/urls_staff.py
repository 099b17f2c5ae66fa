"""Guild staff's view of disclosures (namespace ``disclosures-staff``), mounted by portal/urls.py
at ``/review/disclosures/`` beside the staff's removal pages."""

from django.urls import path

from . import views_staff as views

app_name = "disclosures-staff"

urlpatterns = [
    path("", views.disclosure_list, name="list"),
    path("<int:pk>/", views.disclosure_detail, name="detail"),
]
