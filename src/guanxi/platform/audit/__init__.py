"""Audit: change history of domain records (django-simple-history) and the access log of personal data."""
