"""Recompute every stored image's perceptual hash from its original, in batches, and store
those that changed (with an audit row each, and conflict detection for their works). Run once
after an upgrade whose notes say the pHash steps changed; safe to run again or to interrupt."""

from django.core.management.base import BaseCommand

from works.rehash import work_files_rehash


class Command(BaseCommand):
    help = "Recompute stored image pHashes from the originals; store the ones that changed."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, metavar="N")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; store nothing."
        )

    def handle(self, *args, **options):
        def progress(result):
            if options["verbosity"] > 1:
                self.stdout.write(f"… {result.checked} checked, {result.changed} changed")

        result = work_files_rehash(
            batch_size=options["batch_size"], dry_run=options["dry_run"], progress=progress
        )
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(
            f"{result.checked} images checked, {result.changed} {verb}, "
            f"{result.unreadable} unreadable (original missing or damaged: left as they were)."
        )
