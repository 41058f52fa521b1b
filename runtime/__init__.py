"""Serve a converted model (model.json + model.onnx) on AWS Lambda with onnxruntime and numpy alone.

The Lambda handler is runtime.handler.handler; App is the same server, built from explicit settings.
Importing this package imports nothing heavy: runtime.handler times its own imports.
"""

__all__ = ["App", "Settings"]


def __getattr__(name):
    if name == "App":
        from .app import App

        return App
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
