"""URLs of the pool pages: the public pool, claim and return, the 360° pool panel, handover, pool settings."""

from django.urls import path

from guanxi.customers.web import pool as views

urlpatterns = [
    path("pool/", views.pool_page, name="pool"),
    path("pool/<int:customer_id>/claim/", views.pool_claim, name="pool_claim"),
    path("customers/<int:customer_id>/return-to-pool/", views.customer_return_to_pool, name="customer_return_to_pool"),
    path("customers/<int:customer_id>/pool-panel/", views.customer_pool_panel, name="customer_pool_panel"),
    path("handover/", views.handover, name="handover"),
    path("settings/pools/", views.pool_settings, name="pool_settings"),
    path("settings/pools/new/", views.pool_create, name="pool_create"),
    path("settings/pools/<int:pool_id>/edit/", views.pool_edit, name="pool_edit"),
]
