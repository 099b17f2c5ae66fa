"""Copy every stored file from the folder (``MEDIA_ROOT``) to the bucket (``MEDIA_BUCKET`` and
the other ``MEDIA_BUCKET_*`` settings), verifying each file's SHA-256, before switching
``MEDIA_STORAGE`` to ``s3`` (docs/storage.md, "Moving an existing installation").

Safe to interrupt and to run again: what is already in the bucket is skipped. Nothing in the
folder is changed or deleted. Exit status 0 when every file is in the bucket, 1 when any
failed or the bucket did not answer, 130 when interrupted."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from accounts.bucket import BucketStorage
from accounts.storage import FolderStorage, StorageUnavailable
from accounts.storage_move import MoveResult, Outcome, folder_names, media_move

NEXT_STEP = "set MEDIA_STORAGE=s3 and restart web, worker and beat"
COPYING = {Outcome.COPIED, Outcome.ALREADY_THERE, Outcome.WOULD_COPY, Outcome.FAILED, Outcome.GONE}
LISTED = {Outcome.WOULD_COPY, Outcome.LEFT_OVER, Outcome.WOULD_DELETE, Outcome.DELETED}


def _size(count: int) -> str:
    return filesizeformat(count).replace("\xa0", " ")


class Command(BaseCommand):
    help = (
        "Copy every stored file from the folder to the bucket, verifying each SHA-256; "
        "skips what is already there, so it can be interrupted and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the files that would be copied; copy none."
        )
        parser.add_argument(
            "--recheck",
            action="store_true",
            help="Read back and hash the objects already in the bucket too, not only compare "
            "their size and recorded SHA-256 (slower: every byte is downloaded).",
        )
        parser.add_argument(
            "--delete-gone",
            action="store_true",
            help="Delete from the bucket this command's copies of files since deleted from the "
            "folder (deleted in the portal meanwhile). Only before MEDIA_STORAGE is switched.",
        )
        parser.add_argument(
            "--every",
            type=int,
            default=100,
            metavar="N",
            help="Print a progress line every N files (default 100).",
        )

    def handle(self, *args, **options):
        target_options = settings.MEDIA_BUCKET_OPTIONS
        if not target_options.get("bucket_name"):
            raise CommandError(
                "MEDIA_BUCKET is not set: name the bucket to copy to with MEDIA_BUCKET (and "
                "MEDIA_BUCKET_ENDPOINT_URL, MEDIA_BUCKET_REGION, MEDIA_BUCKET_ACCESS_KEY_ID, "
                "MEDIA_BUCKET_SECRET_ACCESS_KEY as needed; see docs/storage.md)."
            )
        switched = settings.MEDIA_STORAGE == "s3"
        if switched and options["delete_gone"]:
            raise CommandError(
                "--delete-gone is refused once MEDIA_STORAGE is s3: the portal now stores its "
                "files in the bucket, so the folder no longer says which ones should be there."
            )
        source = FolderStorage(location=settings.MEDIA_ROOT)
        if next(folder_names(source), None) is None:
            if switched:
                raise CommandError(
                    f"Nothing to copy: the folder {settings.MEDIA_ROOT} holds no files, and "
                    "MEDIA_STORAGE is already s3. If the files are elsewhere, set MEDIA_ROOT "
                    "to that folder for this command."
                )
            self.stdout.write(f"Nothing to copy: the folder {settings.MEDIA_ROOT} holds no files.")
        elif switched:
            self.stdout.write(
                self.style.WARNING(
                    "MEDIA_STORAGE is already s3: a file deleted in the portal since the switch "
                    "is copied back from the folder. Run this only to finish a copy begun "
                    "before the switch."
                )
            )
        target = BucketStorage(**target_options)
        where = target_options["bucket_name"]
        if target_options.get("location"):
            where += f"/{target_options['location']}"
        dry_run = options["dry_run"]
        verbosity = options["verbosity"]
        every = max(options["every"], 1)
        self.stdout.write(
            f"{'Checking' if dry_run else 'Copying'} the files in {settings.MEDIA_ROOT} "
            f"{'against' if dry_run else 'to'} the bucket {where}"
            f" ({target_options.get('endpoint_url') or 'AWS S3'})."
        )

        def progress(name: str, outcome: Outcome, why: str, result: MoveResult):
            if outcome is Outcome.FAILED:
                self.stderr.write(f"failed: {name}: {why}")
            elif outcome is Outcome.GONE:
                self.stdout.write(f"gone: {name} (deleted from the folder meanwhile: not copied)")
            elif outcome in LISTED or verbosity > 1:
                self.stdout.write(f"{outcome}: {name}")
            if outcome in COPYING and result.done % every == 0 and result.done < result.files:
                self.stdout.write(f"… {self._counts(result, dry_run)}")

        result = MoveResult()
        try:
            media_move(
                source=source,
                target=target,
                dry_run=dry_run,
                recheck=options["recheck"],
                leftovers=not switched,
                delete_gone=options["delete_gone"],
                progress=progress,
                result=result,
            )
        except KeyboardInterrupt:
            if result.files:
                self.stdout.write(self._counts(result, dry_run))
            raise CommandError(
                "Interrupted. Run the command again to carry on: the files already copied are "
                "skipped.",
                returncode=130,
            ) from None
        except StorageUnavailable as exc:
            if result.done:
                self.stdout.write(self._counts(result, dry_run))
            raise CommandError(
                f"The bucket {where} is not usable: {exc}. Check the MEDIA_BUCKET settings and "
                "run the command again: nothing half-written is left, and the files already "
                "copied are skipped."
            ) from exc

        self.stdout.write(self._counts(result, dry_run))
        if result.failed:
            raise CommandError(
                f"{result.failed} file(s) were not copied (listed above). Do not switch "
                "MEDIA_STORAGE yet: fix the cause and run the command again."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was copied or deleted.")
            return
        if result.left_over > result.deleted:
            raise CommandError(
                f"{result.left_over - result.deleted} object(s) in the bucket are copies of "
                "files deleted from the folder since they were copied (listed above). Run the "
                "command again with --delete-gone before switching MEDIA_STORAGE, so that what "
                "was deleted in the portal stays deleted."
            )
        self.stdout.write(
            self.style.SUCCESS("Every file in the folder is in the bucket, its SHA-256 verified.")
        )
        self.stdout.write(f"Next step: {NEXT_STEP}.")

    @staticmethod
    def _counts(result: MoveResult, dry_run: bool) -> str:
        moved = (
            f"{result.would_copy} to copy ({_size(result.bytes_copied)})"
            if dry_run
            else f"{result.copied} copied ({_size(result.bytes_copied)})"
        )
        line = (
            f"{result.done} of {result.files} files ({_size(result.bytes_total)} in all): "
            f"{moved}, {result.already_there} already there, {result.failed} failed"
        )
        if result.gone:
            line += f", {result.gone} gone from the folder"
        if result.left_over:
            copies = "copy" if result.left_over == 1 else "copies"
            line += f"; {result.left_over} {copies} of files since deleted from the folder"
            if result.deleted:
                line += f", {result.deleted} of them deleted from the bucket"
        return line + "."
