"""Helpers and fixtures shared by the conflict tests: more personas, registering works through
the real services (with real uploads), and stored files with a given perceptual hash.

Fixtures are named ``<name>_fixture`` and registered under ``<name>``: a test module imports
them (``from tests.works.conflicting import fellow_fixture``) and asks for ``fellow``."""

import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from tests import factories
from tests.conftest import _creator
from works import services
from works.fingerprints import to_signed64
from works.identifiers import normalise
from works.models import Work, WorkFile, phash_blocks


@pytest.fixture(name="fellow")
def fellow_fixture(wggb):
    """Another verified member of the Writers' Guild (same guild as ``creator``)."""
    return _creator(wggb, "Fiona Fellow", "fiona@example.org")


@pytest.fixture(name="loner")
def loner_fixture(db):
    """A creator with no guild."""
    return factories.CreatorProfileFactory(
        user__email="lena@example.org", display_name="Lena Loner"
    ).user


@pytest.fixture(name="second_wggb_staff")
def second_wggb_staff_fixture(wggb):
    user = factories.UserFactory(email="staff2@wggb.example")
    factories.StaffAppointmentFactory(user=user, guild=wggb)
    return user


def temp_upload(path: Path, name: str | None = None) -> TemporaryUploadedFile:
    """A file as Django hands a large upload to a view: on disk, with a temporary path."""
    data = Path(path).read_bytes()
    upload = TemporaryUploadedFile(name or Path(path).name, "application/octet-stream", 0, None)
    upload.write(data)
    upload.size = len(data)
    upload.seek(0)
    return upload


def register(owner, title="A work", kind="book", upload_path=None, **identifiers) -> Work:
    """``services.work_create`` as the view calls it; ``isbn="…"`` etc. are normalised first."""
    grouped = {scheme: [normalise(scheme, value)] for scheme, value in identifiers.items()}
    upload = temp_upload(upload_path) if upload_path else None
    try:
        return services.work_create(
            owner=owner, title=title, kind=kind, identifiers=grouped, upload=upload
        )
    finally:
        if upload is not None:
            upload.close()


def store_hashes(owner, hashes: list[int], *, title="Stored") -> list[WorkFile]:
    """Works with a ready image file of each perceptual hash (unsigned), in two inserts."""
    works = Work.objects.bulk_create(
        Work(owner=owner, title=f"{title} {i}", kind="photograph") for i in range(len(hashes))
    )
    return WorkFile.objects.bulk_create(
        WorkFile(
            work=work,
            status=WorkFile.Status.READY,
            original_name="picture.jpg",
            size=1,
            family="image",
            format="jpeg",
            mime="image/jpeg",
            phash=to_signed64(value),
            **{f"phash_b{i}": block for i, block in enumerate(phash_blocks(value))},
        )
        for work, value in zip(works, hashes, strict=True)
    )


def copy_as(path: Path, name: str) -> Path:
    return Path(shutil.copy(path, path.with_name(name)))
