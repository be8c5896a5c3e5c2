"""WSGI entry point for gunicorn: `gunicorn redline.site.wsgi:app`."""
from .app import create_app

app = create_app()
