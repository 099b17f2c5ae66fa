"""Several works at once: one work per uploaded file ("Register several works").

Each file goes through the pipeline of a single upload — type by content, the family's size
limit and the creator's storage allowance while it streams in (``SeveralFilesHandler``, a
``VettingUploadHandler`` that remembers each refused file by name), then ``check_name`` and
``check_structure`` in ``services.work_create`` — and becomes a work of its own, titled after
the file's name (the creator edits it afterwards) and of the kind the creator chose or, by
default, the kind its file suggests (as the ZIP import does). Each file is one transaction: a
refused file changes nothing and the others are still registered.

Limits: at most ``max_files()`` files a request (``WORKS_SEVERAL_MAX_FILES``, 20 unless set;
more refuses the whole request, nothing registered); every file counts against the hourly upload
allowance (``WORKS_UPLOADS_PER_HOUR``); the files together must fit what is left of the creator's
storage; a file whose bytes the creator already registered (same SHA-256), or that repeats
another file of the same request, is refused rather than registered twice.
"""

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import SkipFile

from accounts.models import User

from . import services
from .imports.zip_import import KIND_OF_FAMILY
from .models import Work, WorkFile
from .uploads import VettingUploadHandler, over_quota_message, upload_allowance_take

TOO_MANY_FILES = (
    "Choose at most {cap} files at a time. Nothing was registered: send them in batches."
)
NO_FILES = "Choose one or more files to register."


@dataclass
class FileOutcome:
    """What became of one file: the work registered for it, or why it was refused."""

    name: str
    work: Work | None = None
    error: str = ""


class SeveralFilesHandler(VettingUploadHandler):
    """The vetting handler for a field of several files: each refusal is kept with its file's
    name (``refused``), every file asks the hourly allowance, and files past ``max_files`` are
    skipped unread (``too_many``: the view then refuses the whole request)."""

    def __init__(self, request=None, *, quota_left: int, max_files: int, user: User):
        super().__init__(
            request, quota_left=quota_left, allowance=lambda: upload_allowance_take(user)
        )
        self.max_files = max_files
        self.count = 0
        self.too_many = False
        self.refused: list[tuple[str, str]] = []

    def new_file(self, field_name, file_name, *args, **kwargs):
        self.count += 1
        if self.count > self.max_files:
            self.too_many = True
            raise SkipFile("too many files")  # not stored, not counted against the allowance
        super().new_file(field_name, file_name, *args, **kwargs)

    def _refuse(self, message: str):
        self.refused.append((self.file_name or "(no name)", message))
        super()._refuse(message)


def title_from_name(name: str) -> str:
    """“the-quiet-harbour.pdf” → “the-quiet-harbour”: the file's name without its extension."""
    stem = PurePath((name or "").replace("\\", "/")).stem.strip()
    return (stem or name or "Untitled")[: Work._meta.get_field("title").max_length]


def works_register_files(
    *,
    owner: User,
    uploads: list[UploadedFile],
    refused: list[tuple[str, str]] = (),
    kind: str = "",
) -> list[FileOutcome]:
    """Register one work per file in ``uploads`` (already vetted while streaming); ``refused``
    are the files the handler turned away, reported as they are. Returns every file's outcome,
    the refused first. ``kind`` (a ``Work.Kind``) applies to all; empty: each file's own."""
    outcomes = [FileOutcome(name=name, error=message) for name, message in refused]
    digests = {getattr(upload, "sha256", "") for upload in uploads} - {""}
    already = dict(
        WorkFile.objects.filter(work__owner=owner, sha256__in=digests)
        .order_by("-work_id")
        .values_list("sha256", "work__title")
    )
    seen: dict[str, str] = {}
    quota = services.quota_left(user=owner)
    for upload in uploads:
        outcome = FileOutcome(name=upload.name or "(no name)")
        outcomes.append(outcome)
        digest = getattr(upload, "sha256", "")
        if digest in already:
            outcome.error = f"You have already registered this file, as “{already[digest]}”."
            continue
        if digest in seen:
            outcome.error = f"This is the same file as “{seen[digest]}”, above."
            continue
        if upload.size > quota:
            outcome.error = over_quota_message(quota)
            continue
        filetype = getattr(upload, "filetype", None)
        try:
            outcome.work = services.work_create(
                owner=owner,
                title=title_from_name(upload.name),
                kind=kind or (KIND_OF_FAMILY[filetype.family] if filetype else Work.Kind.OTHER),
                upload=upload,
            )
        except ValidationError as exc:
            outcome.error = " ".join(exc.messages)
            continue
        seen[digest] = outcome.name
        quota -= upload.size
    return outcomes


def max_files() -> int:
    return settings.WORKS_SEVERAL_MAX_FILES
