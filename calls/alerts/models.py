"""Alerts by email, without an account: a saved search or one call's deadline, and what was sent.

No history is kept of these rows: unsubscribing deletes the address and everything sent to it.
"""
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calls.models.call import Call


class Rhythm(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class AlertReason(models.TextChoices):
    """Why a call is in a digest; each call is sent once per reason to a subscription."""

    NEW = "new", _("Newly published")
    OPENED = "opened", _("Now open")
    DEADLINE_14 = "deadline_14", _("Deadline within 14 days")
    DEADLINE_3 = "deadline_3", _("Deadline within 3 days")


def new_secret():
    return secrets.token_urlsafe(12)


class AlertSubscription(models.Model):
    """An email address following a saved search of the public site, or one call's deadlines.

    A saved search is the query string of the public search (`query`); a reminder names its
    `call` instead. Nothing is sent but the confirmation message until `confirmed_at` is set
    (double opt-in). `secret` goes into the signed tokens of its links, so that a deleted
    subscription's links never reach a later one.
    """

    email = models.EmailField(_("email address"), max_length=254, db_index=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    rhythm = models.CharField(_("rhythm"), max_length=10, choices=Rhythm.choices, default=Rhythm.DAILY)
    query = models.CharField(
        _("saved search"), max_length=1000, blank=True,
        help_text=_("The query string of the public search (its filters)."),
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call (deadline reminder)"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="alert_subscriptions",
    )
    secret = models.CharField(max_length=32, default=new_secret, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation last sent at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last digest sent at"), null=True, blank=True)

    class Meta:
        db_table = "calls_alertsubscription"  # moved from the `calls` app with its table
        ordering = ["-created_at", "pk"]
        verbose_name = _("email alert")
        verbose_name_plural = _("email alerts")
        permissions = [
            ("view_subscriber_email", _("Can see subscribers' addresses and export their data")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "query"], condition=Q(call__isnull=True), name="calls_alert_search_once_per_email",
            ),
            models.UniqueConstraint(
                fields=["email", "call"], condition=Q(call__isnull=False), name="calls_alert_call_once_per_email",
            ),
        ]
        indexes = [models.Index(fields=["confirmed_at", "last_sent_at"])]

    def __str__(self):
        return f"#{self.pk}"

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None

    @property
    def is_reminder(self):
        """A reminder of one call's deadlines, rather than a saved search."""
        return self.call_id is not None


class SentAlert(models.Model):
    """One call sent to one subscription for one reason: what makes `send_alerts` safe to re-run."""

    subscription = models.ForeignKey(AlertSubscription, on_delete=models.CASCADE, related_name="sent_alerts")
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=AlertReason.choices)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        db_table = "calls_sentalert"
        ordering = ["sent_at", "pk"]
        verbose_name = _("sent alert")
        verbose_name_plural = _("sent alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "call", "reason"], name="calls_sentalert_once_per_reason",
            ),
        ]

    def __str__(self):
        return f"{self.subscription} · {self.call_id} · {self.reason}"
