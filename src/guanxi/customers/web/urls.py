"""URLs of the customers app's pages."""

from django.urls import path

from guanxi.customers.web import customers as customer_views

app_name = "customers"

urlpatterns = [
    path("customers/", customer_views.customer_list, name="customer_list"),
    path("customers/new/", customer_views.customer_create, name="customer_create"),
    path("customers/<int:customer_id>/", customer_views.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/edit/", customer_views.customer_edit, name="customer_edit"),
]
