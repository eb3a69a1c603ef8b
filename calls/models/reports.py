"""What visitors send without an account: an error on a call's page, a call to add."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calls.models.call import Call

MAX_MESSAGE = 4000


class PublicReport(models.Model):
    """A visitor's report, for curators to handle: an error seen on a call's page, or a call they
    propose (which also became a draft call, `suggested_call`, submitted by the `public-suggestions`
    system user). Handled when a curator says so (`services.handle_public_report`)."""

    class Kind(models.TextChoices):
        ERROR = "error", _("Error reported on a call")
        SUGGESTION = "suggestion", _("Call proposed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    call = models.ForeignKey(Call, verbose_name=_("call"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="public_reports")
    suggested_call = models.OneToOneField(Call, verbose_name=_("draft created"), null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="suggestion")
    message = models.TextField(_("message"), max_length=MAX_MESSAGE, blank=True)
    contact_email = models.EmailField(_("contact email (optional)"), blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("visitor's report")
        verbose_name_plural = _("visitors' reports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="error", call__isnull=False) | models.Q(kind="suggestion"),
                name="calls_publicreport_error_names_a_call",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.call or self.suggested_call or ''}".strip()
