"""The curators' daily digest: the write path of its setting, and sending what is new.

A curator opts in from the admin (*My daily digest*, their own setting only: `set_curator_digest`).
`send_curator_digests` (the `send_curator_digest` command, run daily) mails each opted-in,
active staff member with an address how many items newly wait in each list of
`calls.curation.review_queue.WAITING_LISTS` (partners' submissions, imported drafts, flags to settle,
visitors' reports, calls to re-verify), with links to the admin's lists, through the alerts' mail
machinery (`messages.curator_digest_message`: text and HTML, in the curator's language).

"New" is what the curator's last digest did not count as waiting (`CuratorDigest.told`): nothing
new, no message. The digest is recorded and sent in one transaction, its row locked: a failed
send records nothing (the next run tries again) and a second run sends nothing twice.
"""
import logging
import smtplib
from dataclasses import dataclass

from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from calls.alerts import messages
from calls.curation.review_queue import WAITING_LISTS
from calls.models import CuratorDigest

logger = logging.getLogger(__name__)


@transaction.atomic
def set_curator_digest(*, digest: CuratorDigest, user) -> CuratorDigest:
    """Save `user`'s own digest setting (whatever `digest.user` said: a curator sets only theirs)."""
    digest.user = user
    existing = CuratorDigest.objects.filter(user=user).exclude(pk=digest.pk).first()
    if existing is not None:  # a second row for one curator: their setting is the one row
        digest.pk, digest.last_sent_at, digest.told = existing.pk, existing.last_sent_at, existing.told
    digest.full_clean()
    digest.save()
    return digest


def recipients():
    """The digests to send: opted in, of active staff members who have an address."""
    return CuratorDigest.objects.filter(subscribed=True, user__is_active=True, user__is_staff=True).exclude(
        user__email="")


def waiting_now() -> dict:
    """{list's key: ids of what waits in it now}, for every list of `WAITING_LISTS`."""
    return {waiting.key: waiting.ids() for waiting in WAITING_LISTS}


def new_lines(digest: CuratorDigest, waiting: dict) -> list:
    """[(WaitingList, new, waiting in all)] for the lists with items `digest` has not told of yet."""
    lines = []
    for waiting_list in WAITING_LISTS:
        now = waiting.get(waiting_list.key, set())
        new = now - set(digest.told.get(waiting_list.key, []))
        if new:
            lines.append((waiting_list, len(new), len(now)))
    return lines


@dataclass
class DigestReport:
    sent: int = 0
    failed: int = 0


def send_curator_digests(*, connection=None) -> DigestReport:
    """Send each opted-in curator what is new since their last digest; nothing when nothing is."""
    report = DigestReport()
    due = list(recipients().values_list("pk", flat=True))
    if not due:
        return report
    waiting = waiting_now()
    connection = connection or get_connection()
    with connection:
        for pk in due:
            try:
                if _send_one(pk, waiting=waiting, connection=connection):
                    report.sent += 1
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("Curator digest %s not sent: %s", pk, error)
                report.failed += 1
    return report


@transaction.atomic
def _send_one(pk: int, *, waiting: dict, connection) -> bool:
    digest = recipients().select_for_update().filter(pk=pk).select_related("user").first()
    if digest is None:
        return False  # opted out, or no longer staff, meanwhile
    lines = new_lines(digest, waiting)
    told = {key: sorted(ids) for key, ids in waiting.items()}
    if not lines:
        if digest.told != told:  # items left their lists: one coming back will be new again
            digest.told = told
            digest.save(update_fields=["told"])
        return False
    digest.told, digest.last_sent_at = told, timezone.now()
    digest.save(update_fields=["told", "last_sent_at"])
    message = messages.curator_digest_message(digest, lines=lines)
    message.connection = connection
    message.send(fail_silently=False)
    return True
