"""Workflow rules."""
