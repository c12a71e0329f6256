"""URLs of the pool pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
