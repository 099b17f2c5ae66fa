from django.urls import include, path

from . import views
from .views import several

app_name = "works"

urlpatterns = [
    path("works/", views.work_list, name="list"),
    # Each area's URLs live beside its views; names stay in the "works" namespace.
    path("works/imports/", include("works.urls_imports")),
    path("works/export/", include("works.urls_exports")),
    path("works/conflicts/", include("works.urls_conflicts")),
    path("works/new/", views.work_create, name="create"),
    path("works/bulk/", views.work_bulk, name="bulk"),
    path("works/new/several/", several.works_create_several, name="create-several"),
    path("works/claims/", views.claim_queue, name="claim-queue"),
    path("works/claims/<str:public_id>/", views.claim_review, name="claim-review"),
    path("works/<str:public_id>/", views.work_detail, name="detail"),
    path("works/<str:public_id>/edit/", views.work_edit, name="edit"),
    path("works/<str:public_id>/file/", views.work_file_upload, name="file-upload"),
    path("works/<str:public_id>/file/status/", views.work_file_status, name="file-status"),
    path("works/<str:public_id>/file/original/", views.original_download, name="original"),
    path("works/<str:public_id>/file/thumbnail/", views.thumbnail, name="thumbnail"),
    path("works/<str:public_id>/status/", views.work_set_status, name="set-status"),
    path("works/<str:public_id>/claim/", views.claim_request, name="claim-request"),
    path("works/<str:public_id>/evidence/<int:pk>/", views.evidence_download, name="evidence"),
    # The public page of a work: what crawlers and anyone may read (no private file, no email).
    path("w/<str:public_id>/", views.public_work, name="public"),
]
