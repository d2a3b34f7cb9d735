"""WebSocket routes of the emergency-intake app (mounted by config/asgi.py)."""

from django.urls import path

from .consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/alarms/console/", ConsoleConsumer.as_asgi()),
]
