"""The storage layer's guarantees that the rest of the suite leans on: no code may read a stored
file by its filesystem path (every test runs on a storage that refuses to give one, or on the
bucket, which has none), no module but the storage layer and the settings knows where the folder
is, and both storages stream, copy and refuse the same way."""

import ast
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts import storage as stored_files
from tests.services import free_port
from tests.works import files
from works.models import WorkFile

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ["accounts", "works", "consent", "notices", "removals", "works_registry", "portal"]
# Where the folder may be named: the settings, and the command that copies it to a bucket.
MAY_NAME_THE_FOLDER = {
    "portal/settings.py",
    "accounts/management/commands/media_to_bucket.py",
    "accounts/storage_move.py",
}


def test_every_test_runs_on_a_storage_that_gives_no_filesystem_path():
    name = default_storage.save("originals/probe.txt", ContentFile(b"probe"))
    with pytest.raises(NotImplementedError):
        default_storage.path(name)
    # …while everything the portal does with a stored file still works.
    with stored_files.opened(name) as stream:
        assert stream.read() == b"probe"
    with stored_files.seekable(name) as copy:
        copy.seek(2)
        assert copy.read() == b"obe"
    default_storage.delete(name)
    assert not default_storage.exists(name)


def test_no_module_but_the_storage_layer_names_the_media_folder():
    naming = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in MAY_NAME_THE_FOLDER:
                continue
            tree = ast.parse(path.read_text(), relative)
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr == "MEDIA_ROOT":
                    naming.append(f"{relative}:{node.lineno}")
                if isinstance(node, ast.Name) and node.id == "MEDIA_ROOT":
                    naming.append(f"{relative}:{node.lineno}")
    assert naming == []


def test_a_missing_stored_file_is_file_not_found_on_either_storage():
    with pytest.raises(FileNotFoundError), stored_files.opened("originals/never-stored.jpg"):
        pass


def test_the_api_says_storage_unavailable_in_json(
    bucket_storage, settings, client, creator, tmp_path
):
    """A page that reads a stored file while the bucket is down: a 503 saying so, not a 500."""
    client.force_login(creator)
    with open(files.make_jpeg(tmp_path / "pier.jpg", seed=9), "rb") as handle:
        client.post(
            reverse("works:create"), {"title": "Pier", "kind": "photograph", "file": handle}
        )
    work_file = WorkFile.objects.get()
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **default,
            "OPTIONS": {
                **default["OPTIONS"],
                "endpoint_url": f"http://127.0.0.1:{free_port()}",
                "max_attempts": 1,
            },
        },
    }
    response = client.get(reverse("works:original", args=[work_file.work.public_id]))
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"]
    assert "Files are unavailable for a moment" in response.content.decode()
