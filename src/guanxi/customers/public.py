"""What other apps may use from customers. Import only from here across apps."""

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Task
from guanxi.customers.selectors.customers import customer_get, customer_list, customer_queryset

__all__ = [
    "ContactPoint",
    "Customer",
    "Interaction",
    "Lead",
    "Task",
    "customer_get",
    "customer_list",
    "customer_queryset",
]
