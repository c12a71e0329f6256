"""Customer list (with bulk actions and saved views), 360° page and its partials, create, edit, delete."""

from django.urls import path

from guanxi.customers.web import customers as views

urlpatterns = [
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/bulk/", views.customer_bulk, name="customer_bulk"),
    path("customers/organisations/options/", views.organisation_options, name="organisation_options"),
    path("customers/views/", views.customer_view_save, name="customer_view_save"),
    path("customers/views/<int:view_id>/delete/", views.customer_view_delete, name="customer_view_delete"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:customer_id>/delete/", views.customer_delete, name="customer_delete"),
    path("customers/<int:customer_id>/history/", views.customer_history, name="customer_history"),
    path(
        "customers/<int:customer_id>/contact-points/",
        views.customer_contact_points_view,
        name="customer_contact_points",
    ),
    path(
        "customers/<int:customer_id>/contact-points/new/",
        views.customer_contact_point_add,
        name="customer_contact_point_add",
    ),
    path(
        "customers/<int:customer_id>/contact-points/<int:point_id>/edit/",
        views.customer_contact_point_edit,
        name="customer_contact_point_edit",
    ),
    path(
        "customers/<int:customer_id>/contact-points/<int:point_id>/remove/",
        views.customer_contact_point_remove,
        name="customer_contact_point_remove",
    ),
]
