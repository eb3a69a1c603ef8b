"""The API representation of a call as a stored document (the read model's `document`)."""


def call_document(call):
    """The call's API representation less what depends on today or on the request; None until
    the API reads documents from the read model."""
    return None
