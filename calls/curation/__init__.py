"""The curators' context: the admin's forms, actions and CSV import/export, what waits for review
(the admin index's counts, the daily digest), curators' and partners' accounts. Every write goes
through `calls.services`."""
