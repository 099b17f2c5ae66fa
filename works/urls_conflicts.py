"""Conflicts between two creators' works (staff), inside the ``works`` namespace."""

from django.urls import path

from .views import conflicts

urlpatterns = [
    path("", conflicts.conflict_queue, name="conflict-queue"),
    path("<int:pk>/", conflicts.conflict_detail, name="conflict-detail"),
    path("<int:pk>/resolve/", conflicts.conflict_resolve, name="conflict-resolve"),
    path("<int:pk>/lift-block/", conflicts.conflict_lift_block, name="conflict-lift-block"),
    path("<int:pk>/file/<str:side>/<str:kind>/", conflicts.conflict_file, name="conflict-file"),
]
