"""The change feed's log (``works_registry.changes``): one row for each change that may alter
what the registry answers about a work, written in the transaction that makes the change."""

from django.db import models
from django.utils import timezone


class TransactionId(models.Func):
    """The writing transaction's id on PostgreSQL — ``pg_current_xact_id()``, 64 bits, never
    wrapping, the top-level transaction's inside a savepoint — and 0 on SQLite, where one
    transaction writes at a time, so row ids are already in commit order."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class Change(models.Model):
    """A change that may alter the registry's answer about a work or a site: the work
    ``public_id`` (kind ``work``: created, changed, or deleted with its creator's account), the
    site ``public_id`` (kind ``site``: verified, suspended, removed, or its creator's defaults or
    name changed), or every work of ``owner_id`` (kind ``owner``: their defaults, a licence for all
    their works, their credit name), expanded when a page of the feed is read. ``developer`` set:
    only that developer's answer may have changed (one of its licences); empty: anyone's.

    Rows are read in the order ``(txid, id)``: on PostgreSQL only below the oldest transaction
    still writing (see ``changes.py``), so a row committed late never lands behind a cursor
    already handed out."""

    class Kind(models.TextChoices):
        WORK = "work", "One work"
        SITE = "site", "One site"
        OWNER = "owner", "Every work of a creator"

    id = models.BigAutoField(primary_key=True)
    txid = models.BigIntegerField(db_default=TransactionId())
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # No foreign keys to what changed: a row outlives the work or the account it names.
    owner_id = models.BigIntegerField()
    public_id = models.CharField(max_length=24, blank=True)
    developer = models.ForeignKey(
        "notices.AIDeveloper",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["txid", "id"], name="registry_change_order")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="owner", public_id="")
                | (models.Q(kind__in=["work", "site"]) & ~models.Q(public_id="")),
                name="registry_change_kind_fields",
            )
        ]

    def __str__(self):
        what = f"owner {self.owner_id}" if self.kind == self.Kind.OWNER else self.public_id
        return f"change {self.id} ({self.kind} {what})"
