"""Importers: keep the registry current from the feeds that already exist (see `base` for the rules)."""
