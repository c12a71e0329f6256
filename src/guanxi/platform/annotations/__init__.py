"""Annotations on any record: coloured tags, file attachments and notes."""
