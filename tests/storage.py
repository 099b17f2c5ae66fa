"""The folder storage every test runs on (tests/conftest.py): the portal's own ``FolderStorage``,
except that it will not tell anyone outside Django's storage class where a stored file is on
disk. Code that opened a stored file by its filesystem path (``field_file.path``,
``storage.path(name)``) would work on a folder and fail on a bucket; here it fails in every
test that reaches it."""

import sys
import urllib.request
from dataclasses import dataclass

from django.core.files.storage import filesystem

from accounts.storage import FolderStorage


class PathlessFolderStorage(FolderStorage):
    def path(self, name):
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller != filesystem.__name__:
            raise NotImplementedError(
                f"{caller} asked for the filesystem path of the stored file {name!r}: read it "
                "through accounts.storage (opened/seekable) — a bucket has no paths."
            )
        return super().path(name)


def stored_names(under: str = "") -> list[str]:
    """Every file in the default storage (folder or bucket) under ``under``, through the
    storage API: what a test means by "nothing was left behind"."""
    from django.core.files.storage import default_storage

    def walk(folder: str) -> list[str]:
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:  # the folder was never made
            return []
        prefix = f"{folder}/" if folder else ""
        names = [prefix + name for name in files]
        for sub in folders:
            names += walk(prefix + sub)
        return names

    return sorted(walk(under.strip("/")))


def worker_storage_env(settings) -> dict[str, str]:
    """The worker stores files where this test does: the same bucket and prefix, if any."""
    if settings.STORAGES["default"]["BACKEND"] != "accounts.bucket.BucketStorage":
        return {"MEDIA_STORAGE": "folder"}
    options = settings.STORAGES["default"]["OPTIONS"]
    return {
        "MEDIA_STORAGE": "s3",
        "MEDIA_BUCKET": options["bucket_name"],
        "MEDIA_BUCKET_ENDPOINT_URL": options["endpoint_url"],
        "MEDIA_BUCKET_REGION": options["region_name"],
        "MEDIA_BUCKET_ACCESS_KEY_ID": options["access_key"],
        "MEDIA_BUCKET_SECRET_ACCESS_KEY": options["secret_key"],
        "MEDIA_BUCKET_PREFIX": options["location"],
    }


@dataclass
class Download:
    """What the person's browser ends up with: from the portal itself, or — from a bucket —
    from the signed link the portal redirected to (fetched over HTTP, as a browser would)."""

    status: int
    headers: object  # case-insensitive: Django's ResponseHeaders or http.client's message
    body: bytes
    via_bucket: bool

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    @property
    def disposition(self) -> str:
        return self.headers["Content-Disposition"]


def bucket_link(response) -> str:
    """The signed link a download redirected to, or "" (served by the portal, or refused)."""
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location if location.startswith(("http://", "https://")) else ""


def followed(response) -> Download:
    """The file a browser ends up with, whichever way the portal served ``response``. A signed
    link must not be kept by any cache (it is personal); the portal's own bytes are never
    sniffed into another type."""
    if link := bucket_link(response):
        assert "no-store" in response["Cache-Control"]
        with urllib.request.urlopen(link, timeout=10) as answer:
            return Download(answer.status, answer.headers, answer.read(), True)
    if response.status_code == 200 and response.get("Content-Disposition", "").startswith(
        "attachment"
    ):
        assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Download(response.status_code, response.headers, body, False)


def download(client, url: str) -> Download:
    return followed(client.get(url))
