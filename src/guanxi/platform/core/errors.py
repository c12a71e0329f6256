"""Domain exceptions, raised by services and selectors and mapped once to HTTP and UI messages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every error a user may see; `code` is stable, `message` is translated."""

    code = "error"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message: object | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = str(message if message is not None else self.default_message)
        self.fields = {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")

    @classmethod
    def for_field(cls, field: str, message: object) -> ValidationFailed:
        return cls(_("Some fields are not valid."), fields={field: [str(message)]})


class NotFound(DomainError):
    """The record does not exist or the actor may not see it; both look the same from outside."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state of the record.")


class StaleVersion(Conflict):
    code = "stale_version"
    status = 412
    default_message = _("The record was changed by someone else. Reload it and try again.")
