"""URLs of the machine-readable signals; filled in as they are built."""

urlpatterns: list = []
