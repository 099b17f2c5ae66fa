from django.urls import path

from . import views
from .views import contests

app_name = "removals"

# The creator's side (and guild staff filing for a member under their mandate).
urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_create, name="create"),
    path("for-a-member/", views.file_for_member, name="file-for-member"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/edit/", views.request_edit, name="edit"),
    path("<int:pk>/submit/", views.request_submit, name="submit"),
    path("<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<int:pk>/retract/", views.request_retract, name="retract"),
    path("<int:pk>/deny-overrides/", views.deny_overrides, name="deny-overrides"),
    path("<int:pk>/evidence/<int:evidence_pk>/", views.evidence_download, name="evidence"),
    path("<int:pk>/evidence-pack.zip", views.evidence_pack, name="evidence-pack"),
    # A developer's "complied": the creator accepts or contests it (issue 20).
    path(
        "<int:pk>/answers/<int:contest_pk>/accept/",
        contests.compliance_accept,
        name="compliance-accept",
    ),
    path(
        "<int:pk>/answers/<int:contest_pk>/contest/",
        contests.compliance_contest,
        name="compliance-contest",
    ),
]
