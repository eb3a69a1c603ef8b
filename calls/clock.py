"""The registry's one notion of "today": every rule that depends on the day reads it here.

Tests move it with time-machine (one injected clock), never by passing dates around.
"""
from django.utils import timezone


def today():
    """The registry's 'today', in its time zone (Europe/Paris)."""
    return timezone.localdate()
