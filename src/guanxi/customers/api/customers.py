"""Customer API routes (filled in by the customers API work)."""

from ninja import Router

router = Router(tags=["customers"])
