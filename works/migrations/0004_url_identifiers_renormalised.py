"""Stored web addresses under the one URL rule (docs/api.md, "Web addresses"): tracking
parameters (``works.identifiers.TRACKING_PARAMETERS``) are now dropped.

Host case, default ports and fragments were already normalised, so only addresses with a query
can change. A work left with the same address twice keeps the earliest row. The works whose
addresses changed then go through conflict detection (``works.conflicts.conflicts_detect``), so
two creators' addresses that now coincide become a conflict for staff, as on registration.
Safe to run again: a second run changes nothing."""

from django.db import migrations

CHUNK = 1000


def renormalise_url_identifiers(apps, schema_editor):
    from django.core.exceptions import ValidationError

    from works.identifiers import normalise_url

    WorkIdentifier = apps.get_model("works", "WorkIdentifier")
    changes = []  # (pk, work_id, new value), in pk order
    rows = (
        WorkIdentifier.objects.filter(scheme="url", value__contains="?")
        .order_by("pk")
        .values_list("pk", "work_id", "value")
    )
    for pk, work_id, value in rows.iterator(chunk_size=2000):
        try:
            new = normalise_url(value)
        except ValidationError:
            continue  # stored under an older rule and refused now: left as it is
        if new != value:
            changes.append((pk, work_id, new))
    if not changes:
        return

    taken: set[tuple[int, str]] = set()
    new_values = sorted({new for _, _, new in changes})
    for start in range(0, len(new_values), CHUNK):
        taken.update(
            WorkIdentifier.objects.filter(
                scheme="url", value__in=new_values[start : start + CHUNK]
            ).values_list("work_id", "value")
        )
    duplicates, updates = [], []
    for pk, work_id, new in changes:
        if (work_id, new) in taken:
            duplicates.append(pk)
        else:
            taken.add((work_id, new))
            updates.append(WorkIdentifier(pk=pk, value=new))
    for start in range(0, len(duplicates), CHUNK):
        WorkIdentifier.objects.filter(pk__in=duplicates[start : start + CHUNK]).delete()
    WorkIdentifier.objects.bulk_update(updates, ["value"], batch_size=CHUNK)

    # Conflict detection is the portal's own service, on today's models: only the columns it
    # reads are loaded. A fresh database has no rows and never gets here.
    from works.conflicts import conflicts_detect
    from works.models import Work

    work_ids = sorted({work_id for _, work_id, _ in changes})
    fields = ("pk", "owner_id", "created_at", "title", "public_id")
    for start in range(0, len(work_ids), CHUNK):
        works = Work.objects.filter(pk__in=work_ids[start : start + CHUNK]).only(*fields)
        conflicts_detect(works=list(works), actor=None)


class Migration(migrations.Migration):
    dependencies = [("works", "0003_evidence_file_size")]

    operations = [
        migrations.RunPython(renormalise_url_identifiers, migrations.RunPython.noop, elidable=True)
    ]
