"""Alerts by email without an account: saved searches and deadline reminders (see services)."""
