"""URLs of the leads pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
