"""Partners' submissions: a call handed in through the API, stored as a draft for review.

Limits on what a partner may send (each refused with a clear 4xx, never a 500): the body's size
and nesting (`calls.api.parsers`), the rows of each nested list (`MAX_ROWS`, in the serializers).
Submissions of the same title at the same moment each get their own slug.

How a submission is refused, field by field (the body maps each field to its messages):

- **400**: a field breaks what the OpenAPI schema states of it (a type, a choice, a length, a
  pattern, a range, a property the schema does not define, a NUL character anywhere), or a
  `funders[].funder` slug names no funder (the partner names a funder not in the registry by its
  `name`, the message says so: `serializers.RegistryFunderField`); `CallSubmissionSerializer`
  checks all of it;
- **409**: the `slug` the partner chose is another call's;
- **422**: each field is valid as the schema states it, but the registry refuses it: a well-formed
  slug (programme, theme) that names nothing in the registry, or fields that together
  break one of `CROSS_FIELD_RULES`, which no OpenAPI schema can state. `submit_call` raises the
  latter (`services.validate_call`, every writer's one validation of a call and its rows, and
  `funders_named_once`) before anything is written.

Whatever the status, the body maps each field to its messages, and a row's messages say which row,
numbered from 1 (`row_message`: `{"rounds": ["#2 closes_on: …"]}`).
"""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calls import fields as call_fields
from calls import services
from calls.choices import PublicationState
from calls.models import AidFormType, BeneficiaryType, Call, CallFunder, Ceiling, Region, Round, Source
from calls.rules import CallRows
from calls.services import row_message

CALL_FIELDS = call_fields.names(submittable=True)  # declared once, in calls/fields.py


# How often a submission looks for a free slug again when a concurrent one took it first.
SLUG_ATTEMPTS = 50

# The rules a submission's fields must keep together (a 422 naming the field when broken): the
# schema documents this list in the submission's 422 response (`schema_docs`).
CROSS_FIELD_RULES = [
    "`programme`, `themes`: a slug of the registry (see `programmes/`, `themes/`).",
    "`funders`: each funder once (a registry funder by its slug, a proposed one by its name, whatever the case).",
    "`closes_on` not before `opens_on`, for the call and for each of its `rounds`; the call's window is widened "
    "to its rounds, so a round may not close before the call opens either.",
    "`trl_max` not below `trl_min`; `funding_rate_max_pct` not below `funding_rate_min_pct`.",
    "`floor_eur`: not above any of the `ceilings`.",
]


def funders_named_once(rows) -> None:
    """Each funder once in a submission: by its slug for the registry's, by its name (case aside)
    for a proposed one; `ValidationError` on `funders` otherwise."""
    keys = [("slug", row["funder"].slug) if "funder" in row else ("name", row["name"].casefold()) for row in rows]
    if len(keys) != len(set(keys)):
        raise ValidationError({"funders": [_("Name each funder once (with its role).")]})


def _slug_taken(error: ValidationError) -> bool:
    return set(getattr(error, "error_dict", {})) == {"slug"}


def _save_under_a_free_slug(call: Call, *, user, slug_given: bool, rows: CallRows | None = None):
    """Save `call`; a slug made from the title that a concurrent submission took in the meantime
    is drawn again (the unique index decides, in a savepoint), a slug the partner chose is a 400."""
    for _attempt in range(SLUG_ATTEMPTS):
        if not slug_given:
            call.slug = services.free_slug(call.title)
        try:
            with transaction.atomic():
                services.save_call(call=call, actor=user, reason="API submission", rows=rows)
            return
        except ValidationError as error:
            if slug_given or not _slug_taken(error):
                raise
        except IntegrityError:
            if not Call.objects.filter(slug=call.slug).exists():
                raise
            if slug_given:
                raise ValidationError({"slug": [call.unique_error_message(Call, ("slug",))]}) from None
    raise ValidationError({"slug": [_("No free slug for this title: give one.")]})


def numbered_row_errors(errors: dict) -> dict:
    """A serializer's errors with each list's row errors flattened into `row_message`s: DRF gives
    the errors of a list as `{index: …}`, counted from 0 (a row's as a dict of its fields, a
    value's as its messages)."""
    flat = {}
    for name, value in errors.items():
        if isinstance(value, dict) and all(isinstance(index, int) for index in value):
            flat[name] = [
                row_message(index + 1, field, message)
                for index, row in sorted(value.items())
                for field, messages in (row.items() if isinstance(row, dict) else [(None, row)])
                for message in messages
            ]
        else:
            flat[name] = value
    return flat


def _proposed_funder_line(row) -> str:
    details = [f"role: {row['role']}"]
    if row.get("kind"):
        details.append(f"kind: {row['kind']}")
    if row.get("website"):
        details.append(f"website: {row['website']}")
    return f"Proposed funder, not in the registry yet: {row['name']} ({', '.join(details)})."


@transaction.atomic
def submit_call(*, user, data: dict) -> Call:
    """Store a partner's call as a draft attributed to `user`, after the model's validation.

    `data` holds typed values (a validated `CallSubmissionSerializer`): related objects are
    instances, vocabularies are codes. Whatever `data` says, the call is a draft and
    `submitted_by` is `user`. Raises `django.core.exceptions.ValidationError` with a message
    per field (and per child row for rounds, ceilings, sources).

    A funder named by `name` (not in the registry yet) is proposed to the curators in the draft's
    curator note, one line each ("Proposed funder, not in the registry yet: …"), for them to add on
    review; the names are also left on the returned call's `proposed_funders`. The call's window
    is widened to its rounds, as for every writer (`calls.rules`). Each rule of
    `CROSS_FIELD_RULES` is checked before anything is written (the transaction leaves nothing).
    A draft that looks like an entry of the registry is flagged for review as a likely duplicate
    (`services.flag_likely_duplicates`).
    """
    funders_named_once(data.get("funders") or [])
    note = data.get("note") or ""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    proposed = [row for row in data.get("funders") or [] if "name" in row]
    call = Call(
        **{field: data[field] for field in CALL_FIELDS if field in data},
        slug=data.get("slug") or "",
        publication_state=PublicationState.DRAFT,
        submitted_by=user,
        curator_note="\n".join([
            f"Submitted through the API by {user.get_username()} on {stamp}.",
            *[_proposed_funder_line(row) for row in proposed],
            *([note] if note else []),
        ]),
    )
    rounds = [Round(call=call, **row) for row in data.get("rounds") or []]
    ceilings = [Ceiling(call=call, **row) for row in data.get("ceilings") or []]
    sources = [Source(call=call, **row) for row in data.get("sources") or []]
    rows = CallRows(
        rounds=rounds, ceilings=ceilings, sources=sources,
        funders=[CallFunder(funder=row["funder"], role=row["role"]) for row in data.get("funders") or []
                 if "funder" in row],
        codes={
            "aid_forms": list(AidFormType.objects.filter(code__in=data.get("aid_forms") or [])),
            "beneficiaries": list(BeneficiaryType.objects.filter(code__in=data.get("beneficiaries") or [])),
            "regions": list(Region.objects.filter(code__in=data.get("regions") or [])),
            "themes": list(data.get("themes") or []),
        },
    )
    # The call and its rows checked as one (`services.validate_call`), as every writer's.
    _save_under_a_free_slug(call, user=user, slug_given=bool(data.get("slug")), rows=rows)
    call.proposed_funders = [row["name"] for row in proposed]
    services.flag_likely_duplicates(call=call, funders=[row["funder"] for row in data.get("funders") or []
                                                        if "funder" in row], origin=services.SUBMISSIONS_ORIGIN)
    return call
