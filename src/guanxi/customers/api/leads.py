"""API routes for leads."""

from ninja import Router

router = Router(tags=["leads"])
