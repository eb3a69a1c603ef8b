"""Dates known to a day, a month or a year, as sources give them ("2022", "mars 2022")."""
import calendar
import datetime

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from calls.choices import DatePrecision

# The years a date of the registry may fall in, whatever path writes it (admin, API, import,
# loader): the sector's public funding starts in the 1990s, and no call is planned past 2100.
# Outside this range a date is a typo ("2205", "0202"), and it would break calendar arithmetic.
MIN_YEAR = 1990
MAX_YEAR = 2100


def is_supported_date(value: datetime.date) -> bool:
    """Whether a date falls in the registry's years (MIN_YEAR to MAX_YEAR)."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def validate_supported_date(value: datetime.date | None):
    """A date of the registry falls in the years MIN_YEAR to MAX_YEAR."""
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("Give a date between %(min)d and %(max)d."), code="date_out_of_range",
            params={"min": MIN_YEAR, "max": MAX_YEAR},
        )


def validate_supported_year(value: int | None):
    """A year of the registry (a laureate's) is between MIN_YEAR and MAX_YEAR."""
    if value is not None and not MIN_YEAR <= value <= MAX_YEAR:
        raise ValidationError(
            _("Give a year between %(min)d and %(max)d."), code="year_out_of_range",
            params={"min": MIN_YEAR, "max": MAX_YEAR},
        )


def format_partial_date(value: datetime.date | None, precision: str) -> str:
    """Show a date as precisely as its source gave it, in the active language."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return f"{MONTHS[value.month]} {value.year}"
    return formats.date_format(value, "DATE_FORMAT")


def parse_partial_date(text, *, end: bool) -> tuple[datetime.date | None, str]:
    """Parse "2022", "2022-03" or "2022-03-15" into a date and its precision.

    An opening date (end=False) is the first day of its period, a closing date (end=True)
    the last one, so that a call closed "in 2022" reads as closed from 2023 on.
    """
    value, precision = _parse(text, end)
    return value, str(precision.value)


def _parse(text, end):
    if text in (None, ""):
        return None, DatePrecision.DAY
    if isinstance(text, datetime.date):
        return text, DatePrecision.DAY
    parts = str(text).strip().split("-")
    year = int(parts[0])
    if len(parts) == 1:
        return (datetime.date(year, 12, 31) if end else datetime.date(year, 1, 1)), DatePrecision.YEAR
    month = int(parts[1])
    if len(parts) == 2:
        last = calendar.monthrange(year, month)[1]
        return datetime.date(year, month, last if end else 1), DatePrecision.MONTH
    return datetime.date(year, month, int(parts[2])), DatePrecision.DAY
