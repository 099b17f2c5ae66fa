import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_each_user_a_ref(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(ref__isnull=True).only("pk"):
        User.objects.filter(pk=user.pk).update(ref=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        # Three steps, so that users who exist already each get their own reference.
        migrations.AddField(
            model_name="user",
            name="ref",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_user_a_ref, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="ref",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Names the person in records that outlive the account (the consent ledger).",
                unique=True,
                verbose_name="opaque reference",
            ),
        ),
        migrations.CreateModel(
            name="Mandate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("granted_at", models.DateTimeField(auto_now_add=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "creator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mandates",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "guild",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mandates",
                        to="accounts.guild",
                    ),
                ),
            ],
            options={"ordering": ["-granted_at"]},
        ),
        migrations.AddConstraint(
            model_name="mandate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at__isnull", True)),
                fields=("creator", "guild"),
                name="one_active_mandate_per_guild",
            ),
        ),
    ]
