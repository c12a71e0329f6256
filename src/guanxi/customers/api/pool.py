"""API routes for pool."""

from ninja import Router

router = Router(tags=["pool"])
