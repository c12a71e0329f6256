"""API routes for activities."""

from ninja import Router

router = Router(tags=["activities"])
