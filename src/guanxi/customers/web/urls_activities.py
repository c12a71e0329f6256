"""URLs of the activities pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
