"""Check every consent-ledger chain from its first entry; say where any breaks. Then compare
every chain with the anchor log (``CONSENT_ANCHOR_LOG``, or the copies named with
``--anchor-log``): a chain the database holds shorter than anchored was rewound, one whose
anchored entry has another hash was rewritten, one the database lacks was deleted.

Exit status 0 when every chain verifies, 1 otherwise (so a cron job or CI can alert)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consent import anchors
from consent.ledger import verify_all


class Command(BaseCommand):
    help = "Verify every creator's consent-ledger chain, and compare each with the anchor log."

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor-log",
            action="append",
            default=[],
            metavar="PATH",
            help="An anchor log to compare with instead of CONSENT_ANCHOR_LOG, such as the copy "
            "kept off the machine; repeat for several (one per machine that writes one).",
        )
        parser.add_argument(
            "--require-anchors",
            action="store_true",
            help="Fail when there is no anchor log to compare with.",
        )

    def handle(self, *args, **options):
        paths = [Path(p) for p in options["anchor_log"]]
        if not paths and anchors.log_path() is not None:
            paths = [anchors.log_path()]
        anchor_set = anchors.read(paths) if paths else None
        if anchor_set is not None and not anchor_set.paths:
            anchor_set = None
        if anchor_set is None:
            where = (
                ", ".join(str(p) for p in paths) + " does not exist"
                if paths
                else "CONSENT_ANCHOR_LOG is empty"
            )
            self.stdout.write(
                self.style.WARNING(
                    f"No anchor log ({where}): each chain is checked against itself only, so "
                    "this check cannot tell whether a chain was rewound (its newest entries "
                    "deleted and its head set back)."
                )
            )
            if options["require_anchors"]:
                raise CommandError("No anchor log to compare the ledger with.")
        else:
            self._describe(anchor_set)

        chains = broken = entries = anchored = 0
        for report in verify_all(anchor_set):
            chains += 1
            entries += report.length
            anchored += report.anchored
            if not report.ok:
                broken += 1
                where = f"breaks at entry {report.broken_at}: " if report.broken_at else ""
                self.stdout.write(
                    self.style.ERROR(f"chain {report.chain_id}: {where}{report.problem}")
                )
        summary = f"{chains} chain(s), {entries} entr{'y' if entries == 1 else 'ies'} checked"
        if anchor_set is not None:
            summary += f", {anchored} chain(s) anchored"
        if broken:
            raise CommandError(f"{summary}: {broken} broken.")
        self.stdout.write(self.style.SUCCESS(f"{summary}: all verify."))

    def _describe(self, anchor_set: anchors.AnchorSet) -> None:
        names = ", ".join(str(p) for p in anchor_set.paths)
        self.stdout.write(
            f"Anchor log {names}: {anchor_set.lines} line(s), "
            f"{len(anchor_set.heads)} chain(s) anchored."
        )
        if anchor_set.unreadable:
            self.stdout.write(
                self.style.WARNING(
                    f"{anchor_set.unreadable} line(s) of the anchor log are not anchors "
                    "(skipped): a line torn by a crash, or the log was altered."
                )
            )
        for chain_id in sorted(anchor_set.conflicts):
            self.stdout.write(
                self.style.WARNING(
                    f"chain {chain_id}: the anchor log holds two different heads of one length "
                    "(the log was altered, or two databases wrote to it)."
                )
            )
