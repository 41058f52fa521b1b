"""The Lambda handler, runtime.handler.handler: loads and checks the model once, at import."""

from __future__ import annotations

import time

_started = time.perf_counter()
from .config import limit_library_threads, snap_start  # noqa: E402  standard library only

limit_library_threads()
from .app import App  # noqa: E402  numpy and onnxruntime, the bulk of a cold start

app = App.from_env(imports_ms=(time.perf_counter() - _started) * 1e3)
if snap_start():  # Lambda initializes for a SnapStart snapshot: warm up before it, reset after a restore
    from .snapstart import register

    register(app)


def handler(event, context):
    return app(event, context)
