"""What the daily visit of every cited page found (`manage.py check_sources`)."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from calls.models.call import Call

GONE_STATUSES = (404, 410)
NO_HOST = "no host"


class SourceCheck(models.Model):
    """The last visit of one page a call or programme cites (a source, a document, an apply link).

    `status_code` is the answer's HTTP status, or null when none came (`error` says why: a
    timeout, no host by that name, a refused connection, a TLS failure…); `final_url` is where
    redirects led; `fingerprint` is a hash of the page's normalised text (`calls.importing.source_checks`).
    `changed_on` is the day a visit first found a fingerprint different from the one before: an
    entry last verified before that day is to re-verify.
    """

    url = models.CharField(_("page"), max_length=500, unique=True)
    checked_at = models.DateTimeField(_("checked at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    final_url = models.CharField(_("address after redirects"), max_length=2000, blank=True)
    fingerprint = models.CharField(_("fingerprint of the text"), max_length=64, blank=True)
    changed_on = models.DateField(_("text changed on"), null=True, blank=True)
    previous_fingerprint = models.CharField(_("fingerprint before the change"), max_length=64, blank=True)

    class Meta:
        ordering = ["url"]
        verbose_name = _("source check")
        verbose_name_plural = _("source checks")

    def __str__(self):
        return f"{self.url}: {self.outcome}"

    @property
    def outcome(self) -> str:
        return str(self.status_code) if self.status_code is not None else self.error

    @property
    def is_gone(self) -> bool:
        return self.status_code in GONE_STATUSES or self.error == NO_HOST

    @property
    def has_moved(self) -> bool:
        return bool(self.final_url) and same_page_key(self.final_url) != same_page_key(self.url)


def same_page_key(url: str) -> str:
    """An address less what does not make another page: the scheme, a trailing slash, a fragment."""
    rest = url.split("#")[0].split("://", 1)[-1]
    return rest.rstrip("/").lower()


class CallToReverify(Call):
    """Calls whose pages or dates ask a curator to check them again (the admin's "to re-verify")."""

    class Meta:
        proxy = True
        verbose_name = _("call to re-verify")
        verbose_name_plural = _("calls to re-verify")
