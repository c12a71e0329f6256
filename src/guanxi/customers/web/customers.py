"""Customer pages: list, 360° record, create and edit (filled in by the customers web work)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    return HttpResponse("")


@login_required
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    return HttpResponse("")
