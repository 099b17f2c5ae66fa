"""``Work.title_folded`` filled for the works registered before it existed: each title folded by
``accounts.folding.fold_title``, in batches of ``BATCH`` works (one read, one ``bulk_update``
each), so memory stays flat whatever the size of the registry. Safe to run again."""

from django.db import migrations

BATCH = 2000


def fill_title_folded(apps, schema_editor):
    from accounts.folding import fold_title

    Work = apps.get_model("works", "Work")
    last = 0
    while True:
        works = list(
            Work.objects.filter(pk__gt=last).order_by("pk").only("pk", "title", "title_folded")[
                :BATCH
            ]
        )
        if not works:
            return
        changed = []
        for work in works:
            folded = fold_title(work.title)
            if work.title_folded != folded:
                work.title_folded = folded
                changed.append(work)
        Work.objects.bulk_update(changed, ["title_folded"])
        last = works[-1].pk


class Migration(migrations.Migration):
    dependencies = [("works", "0005_work_title_folded")]

    operations = [migrations.RunPython(fill_title_folded, migrations.RunPython.noop)]
