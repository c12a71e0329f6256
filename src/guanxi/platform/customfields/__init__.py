"""Custom fields: definitions per record type, and the one place that validates, renders and filters them."""
