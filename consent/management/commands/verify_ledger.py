"""Check every consent-ledger chain from its first entry; say where any breaks.

Exit status 0 when every chain verifies, 1 otherwise (so a cron job or CI can alert)."""

from django.core.management.base import BaseCommand, CommandError

from consent.ledger import verify_all


class Command(BaseCommand):
    help = "Verify the hash chain of every creator's consent ledger."

    def handle(self, *args, **options):
        chains = broken = entries = 0
        for report in verify_all():
            chains += 1
            entries += report.length
            if not report.ok:
                broken += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"chain {report.chain_id}: breaks at entry {report.broken_at}: "
                        f"{report.problem}"
                    )
                )
        summary = f"{chains} chain(s), {entries} entr{'y' if entries == 1 else 'ies'} checked"
        if broken:
            raise CommandError(f"{summary}: {broken} broken.")
        self.stdout.write(self.style.SUCCESS(f"{summary}: all verify."))
