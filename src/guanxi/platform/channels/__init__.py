"""Outbound messages by email, SMS and WeChat: one sending interface (`services.message_send`) that applies
the contact policy (consent, unsubscribes, frequency caps, quiet hours), templates with merge fields in Chinese
and English, delivery backends chosen in settings with retries, and the message log.

Domain apps make their records addressable with `registry.register_recipient_source(...)`.
"""
