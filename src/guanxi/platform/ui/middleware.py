"""Turn domain errors escaping a view into the right page: 404 for NotFound, 403 for PermissionDenied."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.platform.core.errors import DomainError, NotFound, PermissionDenied


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            return render(request, "ui/pages/error.html", {"status": 404, "message": exception.message}, status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "ui/pages/error.html", {"status": 403, "message": exception.message}, status=403)
        if isinstance(exception, DomainError):
            return render(
                request, "ui/pages/error.html", {"status": exception.status, "message": exception.message},
                status=exception.status,
            )  # fmt: skip
        return None
