"""Background jobs of the webhooks app: one attempt of a claimed delivery, and the every-minute retry job."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.webhooks.delivery import deliveries_send_due, delivery_attempt


@task()
def send_delivery(delivery_id: int, claim_token: str) -> str:
    """Send the attempt claimed with `claim_token`; does nothing when another worker holds the claim now."""
    delivery = delivery_attempt(delivery_id=delivery_id, claim_token=claim_token)
    return delivery.status if delivery is not None else "skipped"


@task()
def retry_due() -> int:
    """Every minute: queue an attempt for each due delivery (idempotent; claims with a conditional UPDATE)."""
    return deliveries_send_due()
