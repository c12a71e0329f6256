"""URLs of the timeline and task pages and partials (names are linked from other pages; keep them)."""

from django.urls import path

from guanxi.customers.web import activities as views

urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="task_reopen"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
    path("customers/<int:customer_id>/timeline/", views.customer_timeline, name="customer_timeline"),
    path("customers/<int:customer_id>/interactions/", views.interaction_log, name="interaction_log"),
    path("customers/<int:customer_id>/tasks/", views.customer_tasks, name="customer_tasks"),
    path("leads/<int:lead_id>/timeline/", views.lead_timeline, name="lead_timeline"),
    path("leads/<int:lead_id>/interactions/", views.lead_interaction_log, name="lead_interaction_log"),
]
