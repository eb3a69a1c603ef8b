from django.core.management.base import BaseCommand, CommandError

from calls.alerts import services


class Command(BaseCommand):
    help = (
        "Send the email alerts due now (digests of saved searches, deadline reminders) and forget "
        "unconfirmed alerts after a few days. Run it daily (cron or a systemd timer); running it "
        "again, even after a crash, sends nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be sent, without sending or recording anything.",
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            for digest in services.collect_due():
                reasons = ", ".join(f"{item.call.slug} ({'+'.join(item.reasons)})" for item in digest.items)
                self.stdout.write(f"alert #{digest.subscription.pk}: {reasons}")
            return
        report = services.send_due()
        self.stdout.write(
            f"{report.sent} digest(s) sent, {report.failed} failed, {report.forgotten} stale alert(s) forgotten."
        )
        if report.failed:
            raise CommandError(f"{report.failed} digest(s) could not be sent: they will be tried again next run.")
