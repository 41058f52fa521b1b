"""The Lambda handler, runtime.handler.handler: loads and checks the model once, at import."""

from __future__ import annotations

from .app import App

app = App.from_env()


def handler(event, context):
    return app(event, context)
