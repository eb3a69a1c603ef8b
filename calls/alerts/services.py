"""The write path of alerts: subscribe, confirm, change, unsubscribe, and send what is due.

Every function is keyword-only and validates with `full_clean()`. The clock is the registry's
one clock (`timezone.now()`, and `calls.querysets.today()` derived from it): tests move it.

Which calls a digest tells about reuses the registry's rules: the public search's FilterSet
for the saved search, and the queryset's `published_between()`, `opened_between()` and
`next_deadline_within()`. Each call goes to a subscription once per reason (`SentAlert`).
"""
import datetime
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.alerts import messages
from calls.alerts.models import AlertReason, AlertSubscription, Rhythm, SentAlert
from calls.alerts.searches import matching_calls, normalize_query
from calls.alerts.throttling import mailbox
from calls.models import Call
from calls.querysets import today
from registry.throttling import hashed, over_limit

logger = logging.getLogger(__name__)

DAY = 24 * 60 * 60
REMINDER_DAYS = {AlertReason.DEADLINE_14: 14, AlertReason.DEADLINE_3: 3}
# The most pressing reason first: a digest lists each call once, under the first of its reasons.
REASON_ORDER = [AlertReason.DEADLINE_3, AlertReason.DEADLINE_14, AlertReason.OPENED, AlertReason.NEW]
NOT_VALID = gettext_lazy("This link is not valid: copy the whole link from the message.")
GONE = gettext_lazy("This alert no longer exists: it was deleted, or not confirmed in time.")
SALTS = {"confirm": "calls.alerts.confirm", "manage": "calls.alerts.manage"}


def _setting(name, default):
    return getattr(settings, name, default)


def unconfirmed_days() -> int:
    """Days after which an unconfirmed subscription is forgotten, and its confirmation link expires."""
    return _setting("ALERTS_UNCONFIRMED_DAYS", 3)


class AlertError(Exception):
    """A request the alerts refuse, with a message for the visitor (and the form field, if any)."""

    status = 400

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class RateLimited(AlertError):
    status = 429


class InvalidLink(AlertError):
    """A forged, altered, expired or outdated link."""


class SendingFailed(AlertError):
    status = 503


# --- Tokens ---------------------------------------------------------------------------------

def make_token(subscription: AlertSubscription, *, purpose: str) -> str:
    """A signed token naming the subscription: `confirm` expires, `manage` (and unsubscribe) does not."""
    return signing.dumps([subscription.pk, subscription.secret], salt=SALTS[purpose], compress=False)


def _read_token(token: str, *, purpose: str) -> tuple[int, str]:
    max_age = unconfirmed_days() * DAY if purpose == "confirm" else None
    try:
        payload = signing.loads(str(token), salt=SALTS[purpose], max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidLink(_(
            "This confirmation link has expired (links are valid for %(days)d days): subscribe again."
        ) % {"days": unconfirmed_days()}) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise InvalidLink(str(NOT_VALID)) from error
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        raise InvalidLink(str(NOT_VALID))
    return payload[0], str(payload[1])


def subscription_from_token(token: str, *, purpose: str) -> AlertSubscription | None:
    """The subscription a valid token names, or None when it was deleted since (InvalidLink if forged)."""
    pk, secret = _read_token(token, purpose=purpose)
    return AlertSubscription.objects.select_related("call").filter(pk=pk, secret=secret).first()


def existing_subscription(token: str, *, purpose: str) -> AlertSubscription:
    """The subscription a valid token names (InvalidLink when forged, expired or deleted)."""
    subscription = subscription_from_token(token, purpose=purpose)
    if subscription is None:
        raise InvalidLink(str(GONE))
    return subscription


def _full_clean(subscription: AlertSubscription):
    """`full_clean()`, its errors as an `AlertError` naming the first field at fault."""
    try:
        subscription.full_clean()
    except ValidationError as error:
        field, messages_ = next(iter(error.message_dict.items()))
        raise AlertError(" ".join(messages_), field=None if field == "__all__" else field) from error


# --- Subscribing ----------------------------------------------------------------------------

def _normalize_email(email: str) -> str:
    return BaseUserManager.normalize_email((email or "").strip())


def _check_rates(*, email: str, client_address: str):
    per_address = _setting("ALERTS_SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR", 10)
    if client_address and over_limit(f"alerts:address:{hashed(client_address)}", limit=per_address, window=3600):
        raise RateLimited(_("Too many alert requests from your network: try again in an hour."))
    per_email = _setting("ALERTS_CONFIRMATIONS_PER_EMAIL_PER_DAY", 3)
    if over_limit(f"alerts:email:{hashed(mailbox(email))}", limit=per_email, window=DAY):
        raise RateLimited(
            _("A confirmation was already sent to this address several times today: check your inbox, "
              "or try again tomorrow."),
            field="email",
        )


@transaction.atomic
def subscribe(
    *, email: str, language: str, rhythm: str = Rhythm.DAILY, query: str = "", call: Call | None = None,
    client_address: str = "",
) -> AlertSubscription:
    """Record an unconfirmed alert for a saved search (`query`) or one call's deadline, and send
    the confirmation message: nothing else is sent until its link is followed (double opt-in).

    Asking again for the same search sends the confirmation again (a confirmed alert stays as it
    is). Rate-limited per client address and per email address; raises `AlertError`.
    """
    email = _normalize_email(email)
    if call is not None:
        if call.upcoming_deadline is None:
            raise AlertError(_("This call has no deadline ahead to remind you of."))
        query, rhythm = "", Rhythm.DAILY
    else:
        query = normalize_query(query)
    _check_rates(email=email, client_address=client_address)
    subscription = AlertSubscription.objects.filter(email=email, call=call, query=query).first()
    if subscription is None:
        if AlertSubscription.objects.filter(email=email).count() >= _setting("ALERTS_MAX_PER_EMAIL", 20):
            raise AlertError(
                _("This address already has as many alerts as it may: delete some first (a link is in "
                  "every alert message)."),
                field="email",
            )
        subscription = AlertSubscription(email=email, call=call, query=query)
    if not subscription.is_confirmed:
        subscription.language, subscription.rhythm = language, rhythm
    subscription.confirmation_sent_at = timezone.now()
    _full_clean(subscription)
    subscription.save()
    try:
        messages.confirmation_message(
            subscription, confirm_token=make_token(subscription, purpose="confirm"),
        ).send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Alert confirmation not sent: %s", error)
        raise SendingFailed(_("The confirmation message could not be sent just now: try again later.")) from error
    return subscription


@transaction.atomic
def confirm(*, token: str) -> AlertSubscription:
    """Confirm the alert the confirmation link names (following it twice is harmless)."""
    subscription = existing_subscription(token, purpose="confirm")
    if subscription.confirmed_at is None:
        subscription.confirmed_at = timezone.now()
        _full_clean(subscription)
        subscription.save(update_fields=["confirmed_at"])
    return subscription


@transaction.atomic
def change(*, token: str, rhythm: str | None = None, language: str | None = None, query: str | None = None):
    """Change an alert's rhythm, language or saved search (from the link in its messages)."""
    subscription = existing_subscription(token, purpose="manage")
    if rhythm is not None and not subscription.is_reminder:
        subscription.rhythm = rhythm
    if language is not None:
        subscription.language = language
    if query is not None and not subscription.is_reminder:
        query = normalize_query(query)
        if AlertSubscription.objects.filter(email=subscription.email, call=None, query=query).exclude(
            pk=subscription.pk
        ).exists():
            raise AlertError(_("You already have an alert for this search."))
        subscription.query = query
    _full_clean(subscription)
    subscription.save()
    return subscription


@dataclass
class Unsubscribed:
    """What an unsubscribe did: whether it deleted the alert (False: it was gone already), and the
    alerts the address still has (they go on; the address is kept for them, and gone with the last)."""

    deleted: bool
    remaining: list = field(default_factory=list)


@transaction.atomic
def unsubscribe(*, token: str) -> Unsubscribed:
    """Stop the alert its link names, and only that one: delete it with what was sent for it. The
    address's other alerts go on (the page lists them, each with its own link to manage it); the
    address is gone when its last alert is. (Deleting every alert of the address is `forget_address`.)"""
    subscription = subscription_from_token(token, purpose="manage")
    if subscription is None:
        return Unsubscribed(deleted=False)
    email = subscription.email
    subscription.delete()
    remaining = list(AlertSubscription.objects.filter(email=email).select_related("call").order_by("created_at", "pk"))
    return Unsubscribed(deleted=True, remaining=remaining)


@transaction.atomic
def forget_address(*, token: str) -> int:
    """Delete every alert of the address the link's alert belongs to: the address is gone."""
    subscription = subscription_from_token(token, purpose="manage")
    if subscription is None:
        return 0
    _total, deleted = AlertSubscription.objects.filter(email=subscription.email).delete()
    return deleted.get(AlertSubscription._meta.label, 0)


def forget_stale() -> int:
    """Forget unconfirmed alerts after `ALERTS_UNCONFIRMED_DAYS`, and reminders of calls now closed."""
    limit = timezone.now() - datetime.timedelta(days=unconfirmed_days())
    unconfirmed = Q(confirmed_at__isnull=True) & (
        Q(confirmation_sent_at__lt=limit) | Q(confirmation_sent_at__isnull=True, created_at__lt=limit)
    )
    finished = Q(call__in=Call.objects.closed(today()).values("pk"))
    _total, deleted = AlertSubscription.objects.filter(unconfirmed | finished).delete()
    return deleted.get(AlertSubscription._meta.label, 0)


# --- Digests --------------------------------------------------------------------------------

@dataclass
class DigestItem:
    call: Call
    reasons: list[str]

    @property
    def main_reason(self) -> str:
        return next(reason for reason in REASON_ORDER if reason in self.reasons)


@dataclass
class Digest:
    subscription: AlertSubscription
    items: list[DigestItem] = field(default_factory=list)

    def sections(self):
        """(reason, label, items) in the order of REASON_ORDER, each call under its main reason."""
        labels = dict(AlertReason.choices)
        for reason in REASON_ORDER:
            items = [item for item in self.items if item.main_reason == reason]
            if items:
                yield reason, labels[reason], items


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    forgotten: int = 0


def due_subscriptions():
    """Confirmed alerts whose rhythm allows a message today: daily ones (and reminders) once a day,
    weekly ones seven days after the last one. Whether there is anything to say comes after."""
    start_of_today = timezone.make_aware(datetime.datetime.combine(today(), datetime.time.min))
    week_ago = start_of_today - datetime.timedelta(days=6)
    daily = Q(rhythm=Rhythm.DAILY) | Q(call__isnull=False)
    return AlertSubscription.objects.filter(confirmed_at__isnull=False).filter(
        Q(last_sent_at__isnull=True)
        | (daily & Q(last_sent_at__lt=start_of_today))
        | (Q(rhythm=Rhythm.WEEKLY, call__isnull=True) & Q(last_sent_at__lt=week_ago))
    )


def _candidates(subscription: AlertSubscription) -> dict[str, object]:
    """For each reason, the published calls that have it today (querysets of the registry's rules)."""
    on = today()
    published = Call.objects.published()
    if subscription.is_reminder:
        calls = published.filter(pk=subscription.call_id)
        reasons = {}
    else:
        calls = published.filter(pk__in=matching_calls(subscription.query).values("pk"))
        since = subscription.confirmed_at
        reasons = {
            AlertReason.NEW: calls.published_between(since, timezone.now()),
            AlertReason.OPENED: calls.opened_between(timezone.localdate(since), on),
        }
    for reason, days in REMINDER_DAYS.items():
        reasons[reason] = calls.next_deadline_within(days, on)
    return reasons


def due_items(subscription: AlertSubscription) -> list[DigestItem]:
    """The calls to tell `subscription` about today, each with its reasons not sent yet."""
    already = set(subscription.sent_alerts.values_list("call_id", "reason"))
    reasons = defaultdict(list)
    for reason, calls in _candidates(subscription).items():
        for pk in calls.values_list("pk", flat=True):
            if (pk, reason) not in already:
                reasons[pk].append(reason)
    if not reasons:
        return []
    calls = Call.objects.filter(pk__in=reasons).for_listing()
    items = [DigestItem(call=call, reasons=reasons[call.pk]) for call in calls]
    items.sort(key=lambda item: (
        REASON_ORDER.index(item.main_reason), item.call.next_deadline or datetime.date.max, item.call.title,
    ))
    return items


def collect_due() -> list[Digest]:
    """What `send_due()` would send now, without sending or recording anything."""
    digests = []
    for subscription in due_subscriptions().select_related("call"):
        if items := due_items(subscription):
            digests.append(Digest(subscription=subscription, items=items))
    return digests


def send_due(*, connection=None) -> SendReport:
    """Forget stale alerts, then send every digest due now and record what each told.

    Each digest is recorded and sent in one transaction, the subscription locked: if sending
    fails nothing is recorded (the next run tries again); a second run, even a concurrent one,
    finds the calls recorded and sends nothing twice. No digest when there is nothing to say.
    """
    report = SendReport(forgotten=forget_stale())
    due = list(due_subscriptions().values_list("pk", flat=True))
    if not due:
        return report
    connection = connection or get_connection()
    with connection:  # one connection to the mail server for the whole run
        for pk in due:
            try:
                if _send_one(pk, connection=connection):
                    report.sent += 1
            except IntegrityError:
                logger.info("Alert %s was sent by another run.", pk)
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("Alert %s not sent: %s", pk, error)
                report.failed += 1
    return report


@transaction.atomic
def _send_one(pk: int, *, connection) -> bool:
    subscription = AlertSubscription.objects.select_for_update().filter(pk=pk).first()
    if subscription is None or not due_subscriptions().filter(pk=pk).exists():
        return False  # deleted, or sent by another run meanwhile
    items = due_items(subscription)
    if not items:
        return False
    now = timezone.now()
    SentAlert.objects.bulk_create([
        SentAlert(subscription=subscription, call=item.call, reason=reason, sent_at=now)
        for item in items for reason in item.reasons
    ])
    subscription.last_sent_at = now
    subscription.save(update_fields=["last_sent_at"])
    message = messages.digest_message(
        Digest(subscription=subscription, items=items), manage_token=make_token(subscription, purpose="manage"),
    )
    message.connection = connection
    message.send(fail_silently=False)
    return True
