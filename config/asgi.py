"""ASGI entry point: the dispatch console's WebSockets (and, under runserver or a test
server, the pages too).

Production serves ordinary pages on WSGI (config/wsgi.py, gunicorn) and runs this on a
separate ASGI process for /ws/ (e.g. `daphne -b 127.0.0.1 -p 8001 config.asgi:application`
or `uvicorn config.asgi:application --port 8001`), with CHANNEL_LAYER_URL=redis://… so that
both processes reach the same channel layer. `make run` serves both from runserver (daphne's,
DEBUG), with the in-memory layer.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django first: it sets up the apps the consumers import.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from servicehall.alarms.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
