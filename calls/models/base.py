"""Building blocks shared by the registry's models."""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.choices import DatePrecision
from calls.dates import format_partial_date, validate_supported_date


def non_negative(field):
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
        name=f"%(app_label)s_%(class)s_{field}_not_negative",
    )


def negative_amounts(instance, *fields) -> dict:
    """The amounts of `instance` below zero, each with its message (what `non_negative` refuses at
    the database, said in the curator's words before it gets there)."""
    return {
        field: _("An amount cannot be negative.")
        for field in fields if getattr(instance, field) is not None and getattr(instance, field) < 0
    }


def not_before(later, earlier, name):
    return models.CheckConstraint(
        condition=Q(**{f"{later}__isnull": True})
        | Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__gte": F(earlier)}),
        name=f"%(app_label)s_%(class)s_{name}",
    )


class DatedWindow(models.Model):
    """An opening and a closing date, each known to the day, the month or the year."""

    opens_on = models.DateField(_("opens on"), null=True, blank=True, validators=[validate_supported_date])
    opens_on_precision = models.CharField(
        _("opening date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    closes_on = models.DateField(_("closes on"), null=True, blank=True, validators=[validate_supported_date])
    closes_on_precision = models.CharField(
        _("closing date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )

    class Meta:
        abstract = True

    def window_errors(self) -> dict:
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            return {"closes_on": _("The closing date cannot be before the opening date.")}
        return {}

    @property
    def opens_on_display(self):
        return format_partial_date(self.opens_on, self.opens_on_precision)

    @property
    def closes_on_display(self):
        return format_partial_date(self.closes_on, self.closes_on_precision)
