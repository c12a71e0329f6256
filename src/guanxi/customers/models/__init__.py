"""Customer models: customers and contact points, leads, interactions, tasks, the public pool."""

from guanxi.customers.models.customer import ContactPoint, Customer
from guanxi.customers.models.interaction import Interaction
from guanxi.customers.models.lead import Lead
from guanxi.customers.models.pool import Handover, Pool, PoolEvent
from guanxi.customers.models.task import Task

__all__ = ["ContactPoint", "Customer", "Handover", "Interaction", "Lead", "Pool", "PoolEvent", "Task"]
