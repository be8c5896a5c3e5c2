"""The Flask app: create_app, blueprints, templates, static files, the `redline` CLI."""
from .app import create_app

__all__ = ["create_app"]
