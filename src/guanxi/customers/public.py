"""What other apps (sales, marketing, service, analytics) may use from customers. Import only from here
across apps: the models, the choices, the permissions, the scoped selectors and the write services.

Every selector applies the actor's visibility and every service checks the actor's permissions, so a
caller in another app gets exactly what the UI and the API would give the same actor.
"""

from guanxi.customers.models import ContactPoint, Customer, Handover, Interaction, Lead, Pool, PoolEvent, Task
from guanxi.customers.models.choices import (
    Channel,
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Direction,
    Gender,
    LeadStatus,
    LifecycleStage,
    Outcome,
    PoolAction,
    Source,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from guanxi.customers.permissions import (
    ACTIVITIES_ADD,
    ACTIVITIES_CHANGE,
    ACTIVITIES_VIEW,
    CUSTOMERS_ADD,
    CUSTOMERS_ASSIGN,
    CUSTOMERS_CHANGE,
    CUSTOMERS_DELETE,
    CUSTOMERS_EXPORT,
    CUSTOMERS_VIEW,
    LEADS_ADD,
    LEADS_CHANGE,
    LEADS_CONVERT,
    LEADS_DELETE,
    LEADS_VIEW,
)
from guanxi.customers.selectors.activities import (
    TIMELINE_SORT,
    TaskFilters,
    customer_open_tasks,
    customer_timeline,
    interaction_get,
    interaction_list,
    interaction_queryset,
    lead_open_tasks,
    lead_timeline,
    task_get,
    task_list,
    task_queryset,
)
from guanxi.customers.selectors.customers import (
    CustomerFilters,
    customer_contact_points,
    customer_get,
    customer_list,
    customer_people,
    customer_queryset,
)
from guanxi.customers.selectors.leads import LeadFilters, lead_get, lead_list, lead_queryset
from guanxi.customers.selectors.pool import customer_pool_history, pool_for_team, pool_get, pool_list
from guanxi.customers.selectors.presentation import contact_value_for, display_contact_value, id_number_for
from guanxi.customers.selectors.search import customer_search_q, lead_search_q
from guanxi.customers.services.contact_points import contact_point_add, contact_point_remove, contact_point_update
from guanxi.customers.services.customers import (
    customer_create,
    customer_delete,
    customer_record_contact,
    customer_update,
    customers_assign_owner,
)
from guanxi.customers.services.handover import handover_run
from guanxi.customers.services.interactions import interaction_delete, interaction_log, interaction_update
from guanxi.customers.services.leads import (
    ConversionResult,
    lead_assign,
    lead_convert,
    lead_create,
    lead_delete,
    lead_disqualify,
    lead_qualify,
    lead_set_status,
    lead_update,
)
from guanxi.customers.services.pool import (
    customer_claim_from_pool,
    customer_return_to_pool,
    customers_return_to_pool_bulk,
    record_pool_event,
)
from guanxi.customers.services.tasks import (
    customers_refresh_next_follow_up,
    task_cancel,
    task_complete,
    task_create,
    task_reopen,
    task_update,
)

__all__ = [  # noqa: RUF022 (grouped by kind, for the reader)
    # models
    "ContactPoint",
    "Customer",
    "Handover",
    "Interaction",
    "Lead",
    "Pool",
    "PoolEvent",
    "Task",
    # choices
    "Channel",
    "CompanySize",
    "Consent",
    "ContactKind",
    "CustomerKind",
    "Direction",
    "Gender",
    "LeadStatus",
    "LifecycleStage",
    "Outcome",
    "PoolAction",
    "Source",
    "TaskKind",
    "TaskPriority",
    "TaskStatus",
    # permissions
    "ACTIVITIES_ADD",
    "ACTIVITIES_CHANGE",
    "ACTIVITIES_VIEW",
    "CUSTOMERS_ADD",
    "CUSTOMERS_ASSIGN",
    "CUSTOMERS_CHANGE",
    "CUSTOMERS_DELETE",
    "CUSTOMERS_EXPORT",
    "CUSTOMERS_VIEW",
    "LEADS_ADD",
    "LEADS_CHANGE",
    "LEADS_CONVERT",
    "LEADS_DELETE",
    "LEADS_VIEW",
    # selectors: customers
    "CustomerFilters",
    "customer_contact_points",
    "customer_get",
    "customer_list",
    "customer_people",
    "customer_queryset",
    "customer_search_q",
    # selectors: leads
    "LeadFilters",
    "lead_get",
    "lead_list",
    "lead_queryset",
    "lead_search_q",
    # selectors: timeline and tasks
    "TIMELINE_SORT",
    "TaskFilters",
    "customer_open_tasks",
    "customer_timeline",
    "interaction_get",
    "interaction_list",
    "interaction_queryset",
    "lead_open_tasks",
    "lead_timeline",
    "task_get",
    "task_list",
    "task_queryset",
    # selectors: pool
    "customer_pool_history",
    "pool_for_team",
    "pool_get",
    "pool_list",
    # how personal data is shown (masked without the permission)
    "contact_value_for",
    "display_contact_value",
    "id_number_for",
    # services: customers and contact points
    "contact_point_add",
    "contact_point_remove",
    "contact_point_update",
    "customer_create",
    "customer_delete",
    "customer_record_contact",
    "customer_update",
    "customers_assign_owner",
    # services: leads
    "ConversionResult",
    "lead_assign",
    "lead_convert",
    "lead_create",
    "lead_delete",
    "lead_disqualify",
    "lead_qualify",
    "lead_set_status",
    "lead_update",
    # services: timeline and tasks
    "customers_refresh_next_follow_up",
    "interaction_delete",
    "interaction_log",
    "interaction_update",
    "task_cancel",
    "task_complete",
    "task_create",
    "task_reopen",
    "task_update",
    # services: pool and handover
    "customer_claim_from_pool",
    "customer_return_to_pool",
    "customers_return_to_pool_bulk",
    "handover_run",
    "record_pool_event",
]
