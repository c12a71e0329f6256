"""The customers app's web pages (server-rendered with htmx)."""
