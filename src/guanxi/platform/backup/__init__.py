"""Backup and restore of a whole installation: the database and the uploaded files, in one archive.

`services.backup_create` writes a `.tar.gz` holding the database (pg_dump custom format on PostgreSQL,
an online-backup copy on SQLite), the media directory and `manifest.json` (version, vendor, migration
state, row counts, checksums). `services.backup_restore` verifies all of that before it touches the
configured database, then replaces database and files as one step.
"""
