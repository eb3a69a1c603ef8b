"""Post an admin change form as a curator's browser would: every field and inline as the page shows it."""
import datetime

from django.forms import CheckboxInput, NullBooleanSelect


def _as_post_value(bound_field):
    value = bound_field.value()
    widget = bound_field.field.widget
    if isinstance(widget, NullBooleanSelect):
        return {True: "true", False: "false"}.get(value, "unknown")
    if isinstance(widget, CheckboxInput):
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return [str(getattr(item, "pk", item)) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(getattr(value, "pk", value))


def _form_values(form, prefix=None):
    data = {}
    for name in form.fields:
        value = _as_post_value(form[name])
        if value is not None:
            data[f"{prefix}-{name}" if prefix else name] = value
    return data


def change_form_data(response) -> dict:
    """The data a curator's browser posts back from an admin change page left as it is."""
    data = _form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({f"{formset.prefix}-{name}": management[name].value() for name in management.fields})
        for form in formset.initial_forms:
            data.update(_form_values(form, form.prefix))
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(len(formset.initial_forms))
    return data


ADMIN = "/en/admin/calls/call/"


def inline_management(prefix, total=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def call_form(**overrides):
    data = {
        "title": "AAP Bioproduction 2027", "slug": "aap-bioproduction-2027", "call_type": "call_for_projects",
        "summary": "Soutien aux plateformes.", "opens_on": "2027-01-15", "opens_on_precision": "day",
        "closes_on": "2027-03-31", "closes_on_precision": "day", "scope": "national",
        "consortium_required": "unknown", "publication_state": "draft",
    }
    for prefix in ("funder_roles", "rounds", "ceilings", "sources", "laureates",
                   "calls-provenance-content_type-object_id"):
        data.update(inline_management(prefix))
    data.update(overrides)
    return data


def _csv_format(form) -> str:
    return next(value for value, label in form.fields["format"].choices if "csv" in str(label).lower())


def import_preview(client, csv_text, admin=ADMIN):
    """The admin's import page given `csv_text` as a curator's file: its preview's response."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.get(f"{admin}import/")
    response = client.post(f"{admin}import/", {
        "resource": "0", "format": _csv_format(page.context["form"]),
        "import_file": SimpleUploadedFile("calls.csv", csv_text.encode("utf-8"), content_type="text/csv"),
    })
    assert response.status_code == 200
    return response


def import_csv(client, csv_text, admin=ADMIN):
    """The admin's import preview: returns the confirmation form's data."""
    response = import_preview(client, csv_text, admin)
    confirm = response.context["confirm_form"]
    assert confirm is not None, response.context["result"].invalid_rows if response.context.get("result") else ""
    return {name: confirm[name].value() for name in confirm.fields}


def export_csv(client, admin=ADMIN) -> str:
    """What the admin's export page gives a curator who exports every call as CSV, every column ticked."""
    form = client.get(f"{admin}export/").context["form"]
    data = {"format": _csv_format(form), "resource": "0"}
    data.update({name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)})
    response = client.post(f"{admin}export/", data)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode("utf-8")
