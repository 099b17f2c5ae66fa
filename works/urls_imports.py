"""URLs of this area are filled in as it is built."""

urlpatterns: list = []
