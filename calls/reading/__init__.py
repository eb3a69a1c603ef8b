"""The read side: what every public surface reads (the read model, the call's stored document,
cards, search and its thesaurus, the one FilterSet, editions, calendars and export files).

It reads the domain (`calls.models`, `calls.date_facts`) and imports nothing from the public
site, the partners' API, alerts or importers: they all read it."""
