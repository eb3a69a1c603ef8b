"""The partners' REST API (version 1): read endpoints, sync, exports and draft submissions."""
