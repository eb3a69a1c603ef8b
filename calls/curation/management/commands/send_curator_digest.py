from django.core.management.base import BaseCommand, CommandError

from calls.curation import curator_digest


class Command(BaseCommand):
    help = (
        "Send each curator who asked for it (in the admin: My daily digest) the new items waiting for "
        "curators since their last digest: partners' submissions, imported drafts, flags to settle, "
        "visitors' reports, calls to re-verify. Nothing to a curator when nothing is new. Run it daily."
    )

    def handle(self, *args, **options):
        report = curator_digest.send_curator_digests()
        self.stdout.write(f"{report.sent} curator digest(s) sent, {report.failed} failed.")
        if report.failed:
            raise CommandError(f"{report.failed} curator digest(s) could not be sent: tried again next run.")
