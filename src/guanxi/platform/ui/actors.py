"""The actor of a web request."""

from django.http import HttpRequest

from guanxi.platform.core.actors import Actor


def actor_from_request(request: HttpRequest) -> Actor:
    return Actor(user=request.user, channel="web")  # type: ignore[arg-type]
