"""Project configuration: settings, URLs, WSGI/ASGI entry points and the API root."""
