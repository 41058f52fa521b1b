"""Serve a converted model (model.json + model.onnx) on AWS Lambda with onnxruntime and numpy alone.

The Lambda handler is runtime.handler.handler; App is the same server, built from explicit settings.
"""

from .app import App
from .config import Settings

__all__ = ["App", "Settings"]
