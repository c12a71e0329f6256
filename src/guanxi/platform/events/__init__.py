"""Domain events: typed payloads published after commit and delivered to subscribers in the worker.

Domain apps declare their events (`register_event_type`) and publish them from services with `publish()`;
platform packages (automation, webhooks, ...) subscribe with `register_subscriber`. See registry.py.
"""
