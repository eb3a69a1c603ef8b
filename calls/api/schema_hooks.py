"""Post-processing of the OpenAPI schema: what the filters' own descriptions can't say."""
from calls.api.serializers import MAX_ROWS, NON_BLANK_TEXT, SLUG, TEXT
from calls.reading.filters import MAX_VALUE_LENGTH, MAX_VALUES, CallFilterSet

# The request bodies of a submission (the call, and its rows).
SUBMISSION_COMPONENTS = ["CallSubmissionRequest", "SubmittedRoundRequest", "SubmittedCeilingRequest",
                         "SubmittedSourceRequest"]
# Properties of a submission, and filters, that name a registry object by its slug.
SLUG_PROPERTIES = {"programme"}
SLUG_FILTERS = {"funder", "theme", "programme"}


def document_filter_limits(result, generator, request, public):
    """Every filter of `calls/`: a value is 1 to MAX_VALUE_LENGTH characters (an empty value is a
    400 in the API), with no NUL character (Django's forms refuse it: a 400); a funder, theme or
    programme is named by a slug (another string names none: a 404); a repeated filter takes at most
    MAX_VALUES values."""
    names = set(CallFilterSet.base_filters)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") != "query" or parameter["name"] not in names:
                    continue
                schema = parameter.get("schema", {})
                if schema.get("type") == "array":
                    schema["maxItems"] = MAX_VALUES
                    schema = schema.get("items", {})
                if parameter["name"] in SLUG_FILTERS:  # a slug, whatever key the model's rows have
                    schema.clear()
                    schema["type"] = "string"
                if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
                    schema.setdefault("minLength", 1)
                    schema.setdefault("maxLength", MAX_VALUE_LENGTH)
                    schema.setdefault("pattern", SLUG if parameter["name"] in SLUG_FILTERS else TEXT)
    # A submission's lists of rows (DRF's list serializers' max_length is not in the schema).
    components = result.get("components", {}).get("schemas", {})
    submission = components.get("CallSubmissionRequest", {})
    for prop in submission.get("properties", {}).values():
        if prop.get("type") == "array":
            prop.setdefault("maxItems", MAX_ROWS)
    for name in SUBMISSION_COMPONENTS:
        document_texts(components.get(name, {}))
        if name in components:
            components[name]["additionalProperties"] = False  # another property is a 400 naming it
    return result


def document_texts(component):
    """What the submission's texts may hold, stated as patterns: no NUL character in any text, a
    character other than whitespace in a required one (DRF trims texts), a slug where a registry
    object is named by its slug. Choices, dates and addresses keep their own enum, format, pattern."""
    for name, prop in component.get("properties", {}).items():
        if prop.get("type") != "string" or {"enum", "format", "pattern"} & set(prop):
            continue
        if name in SLUG_PROPERTIES:
            prop["pattern"] = SLUG
        else:
            prop["pattern"] = NON_BLANK_TEXT if prop.get("minLength", 0) >= 1 else TEXT


NUL_REFUSAL = ("A NUL character (`\\u0000`) in the path or the query string (a parameter's name or value) is a 400: "
               "the body names `path` or the parameter.")


def document_nul_refusal(result, generator, request, public):
    """Every operation answers a NUL character in its path or query string with a 400 naming where
    (`calls.api.nul_characters`): each documents that 400, with the field errors' body, and a free
    text parameter states that it holds no NUL."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
                    schema["pattern"] = TEXT  # (a cursor: any text the API wrote, never a NUL)
            refusal = operation["responses"].setdefault("400", {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FieldErrors"}}},
                "description": "",
            })
            refusal["description"] = " ".join(filter(None, [refusal.get("description"), NUL_REFUSAL]))
    return result
