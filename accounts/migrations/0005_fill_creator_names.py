"""``CreatorName`` filled for the profiles made before it existed: each profile's credit name,
display name and pseudonyms folded by ``accounts.folding.fold``, one row per distinct folded
name, in batches of ``BATCH`` profiles. Safe to run again (rows already there are kept)."""

from django.db import migrations

BATCH = 2000


def fill_creator_names(apps, schema_editor):
    from accounts.folding import fold

    CreatorProfile = apps.get_model("accounts", "CreatorProfile")
    CreatorName = apps.get_model("accounts", "CreatorName")
    last = 0
    while True:
        profiles = list(
            CreatorProfile.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "credit_name", "display_name", "pseudonyms")[:BATCH]
        )
        if not profiles:
            return
        rows = []
        for pk, credit_name, display_name, pseudonyms in profiles:
            names = [credit_name, display_name, *pseudonyms.splitlines()]
            for folded in sorted({fold(name) for name in names} - {""}):
                rows.append(CreatorName(profile_id=pk, name_folded=folded))
        CreatorName.objects.bulk_create(rows, ignore_conflicts=True)
        last = profiles[-1][0]


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_creatorname")]

    operations = [migrations.RunPython(fill_creator_names, migrations.RunPython.noop)]
