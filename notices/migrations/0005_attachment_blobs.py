import hashlib

import django.db.models.deletion
from django.db import migrations, models


def move_content_to_blobs(apps, schema_editor):
    NoticeAttachment = apps.get_model("notices", "NoticeAttachment")
    AttachmentBlob = apps.get_model("notices", "AttachmentBlob")
    for attachment in NoticeAttachment.objects.all().iterator():
        data = bytes(attachment.content)
        blob, _ = AttachmentBlob.objects.get_or_create(
            sha256=hashlib.sha256(data).hexdigest(), defaults={"content": data, "size": len(data)}
        )
        attachment.blob = blob
        attachment.save(update_fields=["blob"])


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0004_developer_side"),
    ]

    operations = [
        migrations.CreateModel(
            name="AttachmentBlob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("content", models.BinaryField()),
                ("size", models.PositiveBigIntegerField()),
            ],
        ),
        migrations.AddField(
            model_name="noticeattachment",
            name="blob",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="notices.attachmentblob",
            ),
        ),
        migrations.RunPython(move_content_to_blobs, migrations.RunPython.noop),
        migrations.RemoveField(model_name="noticeattachment", name="content"),
        migrations.AlterField(
            model_name="noticeattachment",
            name="blob",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="notices.attachmentblob",
            ),
        ),
    ]
