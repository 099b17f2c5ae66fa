"""Attachment bytes move from the database (``AttachmentBlob.content``) to the file storage
(``AttachmentBlob.file``): a folder, or the bucket with ``MEDIA_STORAGE=s3``.

Each blob's bytes are written through the storage API, one blob in memory at a time, in
batches of ``BATCH`` rows, checked against the blob's SHA-256 first. If anything fails, the
files already written are deleted again and the migration's transaction rolls back: the
database keeps its bytes and the migration can simply be run again.

Backwards, the bytes are read back from the storage into ``content``; the files are left where
they are (a second forward run writes new ones and never reads them).
"""

import hashlib
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations, models

BATCH = 100


def _name(sha256: str) -> str:
    # notices.attachments.blob_name at the time of writing (migrations keep their own copy).
    return f"notice-attachments/{sha256[:2]}/{sha256}-{secrets.token_hex(6)}"


def contents_to_storage(apps, schema_editor):
    AttachmentBlob = apps.get_model("notices", "AttachmentBlob")
    blobs = AttachmentBlob.objects.using(schema_editor.connection.alias)
    written = []
    try:
        last = 0
        while True:
            batch = list(
                blobs.filter(pk__gt=last, file="")
                .order_by("pk")
                .values_list("pk", "sha256")[:BATCH]
            )
            if not batch:
                break
            for pk, sha256 in batch:
                data = bytes(blobs.values_list("content", flat=True).get(pk=pk))
                if hashlib.sha256(data).hexdigest() != sha256:
                    raise ValueError(
                        f"Attachment blob {pk}: its bytes do not match its SHA-256 {sha256}; "
                        "nothing was moved."
                    )
                name = default_storage.save(_name(sha256), ContentFile(data))
                written.append(name)
                blobs.filter(pk=pk).update(file=name, size=len(data))
            last = batch[-1][0]
    except BaseException:
        for name in written:
            try:
                default_storage.delete(name)
            except Exception:  # the store is down: an unnamed file, nothing worse
                pass
        raise


def contents_from_storage(apps, schema_editor):
    AttachmentBlob = apps.get_model("notices", "AttachmentBlob")
    blobs = AttachmentBlob.objects.using(schema_editor.connection.alias)
    for pk, name in blobs.exclude(file="").order_by("pk").values_list("pk", "file").iterator():
        with default_storage.open(name, "rb") as handle:
            blobs.filter(pk=pk).update(content=handle.read())


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0005_attachment_blobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachmentblob",
            name="file",
            field=models.FileField(default="", max_length=300, upload_to="notice-attachments/"),
            preserve_default=False,
        ),
        # Nullable, so that going backwards the column comes back empty before it is refilled.
        migrations.AlterField(
            model_name="attachmentblob", name="content", field=models.BinaryField(null=True)
        ),
        migrations.RunPython(contents_to_storage, contents_from_storage),
        migrations.RemoveField(model_name="attachmentblob", name="content"),
    ]
