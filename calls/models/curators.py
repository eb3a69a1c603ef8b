"""What a curator chooses for themself: the daily e-mail of what newly waits for curators."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CuratorDigest(models.Model):
    """A curator's daily digest (`calls.curation.curator_digest`), opt-in, set by the curator alone.

    `told` keeps, by waiting list, the ids of the items the last digest counted as waiting, so
    that a digest tells only what is new since the last one (an item that left a list and comes
    back is new again); `last_sent_at` says when that was.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("curator"), on_delete=models.CASCADE,
                                related_name="curator_digest")
    subscribed = models.BooleanField(
        _("send me the daily digest"), default=False,
        help_text=_("Once a day, an e-mail of the new items waiting for curators (partners' submissions, "
                    "imported drafts, flags, visitors' reports, calls to re-verify), when there are any."))
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    last_sent_at = models.DateTimeField(_("last digest sent at"), null=True, blank=True, editable=False)
    told = models.JSONField(_("items the last digest counted"), default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("my daily digest")
        verbose_name_plural = _("my daily digest")

    def __str__(self):
        return str(_("Daily digest of %(user)s") % {"user": self.user.get_username()})
