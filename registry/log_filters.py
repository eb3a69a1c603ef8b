"""Logging filters."""
import logging


class NoTracebackFor4xx(logging.Filter):
    """A client error (403 permission denied, 404…) is an answer, not a fault of the server:
    Django logs it with the exception that produced it, which prints a traceback. Keep the
    line (status and path), drop the traceback."""

    def filter(self, record):
        response = getattr(record, "status_code", None)
        if response is not None and 400 <= response < 500:
            record.exc_info = None
            record.exc_text = None
        return True
