"""A call's history as curators read it: every change to the call and to its rows, in plain words.

django-simple-history records the call (with its beneficiaries, regions, themes and aid forms,
`HistoricalRecords(m2m_fields=…)`) and each of its rows (funders' roles, rounds, ceilings,
sources, laureates) in their own tables. `call_history_rows` merges them into one list, newest
first, each change shown with labels rather than codes ("Brouillon → Publié"), dates as dates,
amounts in euros and "—" for an empty value.
"""
import dataclasses
import datetime

from django.db import models
from django.utils import formats
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from calls.models import Call, CallFunder, Ceiling, Laureate, Round, Source

EMPTY = "—"
# Kept by the registry itself, not facts a curator changes.
NOT_SHOWN = {"id", "call", "programme_id", "created_at", "updated_at", "published_at"}
ROW_MODELS = [CallFunder, Round, Ceiling, Source, Laureate]
TRACKED_M2M = {"aid_forms", "beneficiaries", "regions", "themes"}  # Call.history's m2m_fields


@dataclasses.dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclasses.dataclass
class HistoryRow:
    """One recorded change: when, who, why, to what (the call or one of its rows), and its fields."""

    when: datetime.datetime
    who: str
    reason: str
    subject: str
    action: str  # "added", "changed" or "removed", in the active language
    changes: list[FieldChange]


def display_value(field, value) -> str:
    """`value` of the model field `field` as a curator reads it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(field, models.ManyToManyField):
        return ", ".join(sorted(_related_label(field.related_model, pk) for pk in value)) or EMPTY
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        return _related_label(field.related_model, value)
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField):
        return formats.date_format(value, "DATETIME_FORMAT")
    if isinstance(field, models.DateField):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(field, (models.BigIntegerField, models.IntegerField)) and field.name.endswith("_eur"):
        return f"{number_format(value, force_grouping=True)} €"
    return str(value)


def _related_label(model, pk) -> str:
    obj = model._base_manager.filter(pk=pk).first()
    return str(obj) if obj is not None else str(pk)


def _m2m_ids(record, field) -> list:
    """The ids of `field`'s objects in a historical record (its own through table)."""
    through = getattr(record, field.name)
    column = field.m2m_reverse_field_name()
    return [getattr(row, f"{column}_id") for row in through.all()]


def _values(record, model, hidden=frozenset()) -> dict:
    values = {}
    for field in model._meta.get_fields():
        if field.name in NOT_SHOWN or field.name in hidden or not getattr(field, "concrete", False) \
                or field.auto_created:
            continue
        if isinstance(field, models.ManyToManyField):
            if model is Call and field.name in TRACKED_M2M:
                values[field.name] = (field, _m2m_ids(record, field))
            continue
        values[field.name] = (field, getattr(record, field.attname))
    return values


def _changes(old: dict | None, new: dict) -> list[FieldChange]:
    changes = []
    for name, (field, value) in new.items():
        before = old[name][1] if old else None
        if old is not None and _comparable(before) == _comparable(value):
            continue
        if old is None and value in (None, "", [], False):
            continue
        changes.append(FieldChange(
            field=str(field.verbose_name), old=display_value(field, before) if old else EMPTY,
            new=display_value(field, value),
        ))
    return changes


def _comparable(value):
    return sorted(map(str, value)) if isinstance(value, list) else value


def _row(record, subject, action, changes) -> HistoryRow:
    user = record.history_user
    return HistoryRow(
        when=record.history_date, who=(user.get_full_name() or user.get_username()) if user else EMPTY,
        reason=record.history_change_reason or "", subject=subject, action=action, changes=changes,
    )


def _records_rows(records, model, subject_of, hidden=frozenset()) -> list[HistoryRow]:
    """Rows for one object's records, oldest first: its creation, each change, its removal."""
    rows, previous = [], None
    for record in records:
        values = _values(record, model, hidden)
        subject = subject_of(record)
        if record.history_type == "+":
            rows.append(_row(record, subject, _("added"), _changes(None, values)))
        elif record.history_type == "-":
            rows.append(_row(record, subject, _("removed"), []))
        else:
            changes = _changes(previous, values) if previous is not None else []
            if changes:
                rows.append(_row(record, subject, _("changed"), changes))
        previous = values
    return rows


def call_history_rows(call: Call, *, hidden=frozenset()) -> list[HistoryRow]:
    """Every change to `call` and to its rows, newest first, readable (see the module's docstring);
    the call's fields in `hidden` (`fields.hidden_from` the reader) are left out."""
    rows = _records_rows(
        call.history.select_related("history_user").order_by("history_date", "history_id"), Call,
        lambda record: str(Call._meta.verbose_name).capitalize(), hidden,
    )
    for model in ROW_MODELS:
        records = model.history.filter(call_id=call.pk).select_related("history_user").order_by(
            "id", "history_date", "history_id"
        )
        by_object: dict[int, list] = {}
        for record in records:
            by_object.setdefault(record.id, []).append(record)
        label = str(model._meta.verbose_name).capitalize()
        for object_records in by_object.values():
            rows += _records_rows(object_records, model, lambda record, label=label: f"{label} « {record.instance} »")
    rows.sort(key=lambda row: row.when, reverse=True)
    return rows
