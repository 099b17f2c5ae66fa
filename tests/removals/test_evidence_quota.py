"""Evidence files are files they store, like their works' files: they count against their storage
allowance (``WORKS_STORAGE_QUOTA``) and their hourly upload allowance (``WORKS_UPLOADS_PER_HOUR``),
through the real pages and the streaming vetting handler."""

import io
import os
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from removals import services
from removals.models import RemovalEvidence
from tests.removals.test_creator_pages import form_data
from tests.storage import stored_names
from tests.works import files
from works.models import Work

OVER_QUOTA = "This file would take you over your storage allowance"


def noise_png(side: int = 48) -> bytes:
    """A PNG of random pixels: it does not compress, so its size is about side² × 3 bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files(settings) -> list[str]:
    return stored_names("")


@pytest.fixture
def creator_client(client, creator):
    client.force_login(creator)
    return client


@pytest.fixture
def draft(make_request):
    return make_request(submit=False)


def attach(client, draft, content: bytes, name="shot.png"):
    return client.post(
        reverse("removals:edit", args=[draft.pk]),
        form_data(
            draft,
            evidence=SimpleUploadedFile(name, content, content_type="image/png"),
            action="upload",
        ),
    )


def upload_work(client, path: Path, title="A new photograph"):
    with open(path, "rb") as handle:
        return client.post(
            reverse("works:create"), {"title": title, "kind": "photograph", "file": handle}
        )


def test_evidence_that_would_take_them_over_their_storage_allowance_is_refused(
    creator_client, draft, settings
):
    shot = noise_png()
    settings.WORKS_STORAGE_QUOTA = len(shot) - 1000

    response = attach(creator_client, draft, shot)

    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert OVER_QUOTA in page
    assert not RemovalEvidence.objects.exists() and stored_files(settings) == []


def test_the_service_refuses_evidence_over_their_storage_allowance_too(draft, settings):
    """A file that did not stream through the vetting handler (a script) is held to it too."""
    shot = noise_png()
    settings.WORKS_STORAGE_QUOTA = len(shot) - 1000
    with pytest.raises(ValidationError) as caught:
        services.evidence_add(
            actor=draft.creator,
            request=draft,
            upload=SimpleUploadedFile("shot.png", shot, content_type="image/png"),
        )
    assert OVER_QUOTA in caught.value.messages[0]
    assert not RemovalEvidence.objects.exists() and stored_files(settings) == []


def test_their_evidence_counts_in_their_storage_so_a_later_work_upload_is_refused(
    creator_client, draft, settings, tmp_path
):
    photo = files.make_jpeg(tmp_path / "harbour.jpg", size=(400, 300), seed=2)
    shot = noise_png()
    settings.WORKS_STORAGE_QUOTA = len(shot) + photo.stat().st_size - 1  # one of the two

    assert attach(creator_client, draft, shot).status_code == HTTPStatus.FOUND
    assert draft.evidence.count() == 1

    response = upload_work(creator_client, photo)
    assert response.status_code == HTTPStatus.OK
    assert OVER_QUOTA in response.content.decode()
    assert not Work.objects.filter(title="A new photograph").exists()

    # Removing the evidence gives the space back.
    evidence = draft.evidence.get()
    creator_client.post(
        reverse("removals:edit", args=[draft.pk]),
        form_data(draft, remove_evidence=str(evidence.pk)),
    )
    assert upload_work(creator_client, photo).status_code == HTTPStatus.FOUND


def test_evidence_uploads_count_against_their_hourly_upload_allowance(
    creator_client, draft, settings, tmp_path
):
    settings.WORKS_UPLOADS_PER_HOUR = 2
    edit = reverse("removals:edit", args=[draft.pk])
    for _ in range(3):  # saving the draft without a file is not an upload
        assert creator_client.post(edit, form_data(draft, action="save")).status_code == 302

    assert attach(creator_client, draft, noise_png(), "one.png").status_code == HTTPStatus.FOUND
    assert attach(creator_client, draft, noise_png(), "two.png").status_code == HTTPStatus.FOUND

    # A third evidence file this hour is refused with the reason, and nothing is stored.
    response = attach(creator_client, draft, noise_png(), "three.png")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "You have uploaded a lot in the last hour" in response.content.decode()
    assert draft.evidence.count() == 2
    assert len(stored_files(settings)) == 2

    # Their allowance is one: a work upload this hour is refused too.
    photo = files.make_jpeg(tmp_path / "harbour.jpg", size=(200, 150), seed=4)
    assert upload_work(creator_client, photo).status_code == HTTPStatus.TOO_MANY_REQUESTS
