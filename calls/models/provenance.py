"""Where an entry came from, and what its origin last said: the ground for never overwriting curators."""
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Provenance(models.Model):
    """An entry as a program (the bundled data's loader, an importer) last wrote it.

    `baseline` holds the entry's fields as the origin gave them at the last write, in the
    bundled data's format. A field whose current value differs from its baseline was changed
    by a curator since: no program overwrites it; the origin's new value waits in `pending`
    for a curator to settle.

    Importers also leave what a curator should review: `missing_since`, the day the entry was
    first no longer in its origin's feed (it is never deleted for that), and `flags`
    (`[{"code", "value"}]`: funders not in the registry, likely duplicates, a perimeter not
    placed; see `calls.importing.base.FLAGS`).
    """

    origin = models.CharField(_("origin"), max_length=60)
    external_id = models.CharField(_("identifier at the origin"), max_length=300)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    entry = GenericForeignKey("content_type", "object_id")
    baseline = models.JSONField(_("values as last written from the origin"), default=dict)
    pending = models.JSONField(
        _("origin's values awaiting a curator"), default=dict, blank=True,
        help_text=_("Fields a curator changed and the origin changed too: the origin's value, to decide."),
    )
    missing_since = models.DateField(
        _("no longer in the feed since"), null=True, blank=True,
        help_text=_("The origin's feed stopped listing this entry that day: review it (nothing is deleted)."),
    )
    flags = models.JSONField(_("to review"), default=list, blank=True)
    written_at = models.DateTimeField(_("last written from the origin"), auto_now=True)

    class Meta:
        verbose_name = _("provenance")
        verbose_name_plural = _("provenances")
        constraints = [
            models.UniqueConstraint(fields=["origin", "content_type", "external_id"], name="calls_provenance_unique"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.origin}: {self.external_id}"
