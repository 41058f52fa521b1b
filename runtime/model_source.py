"""Where the served model comes from: the folder baked into the image or the zip (MODEL_DIR,
the default), or a model published to S3 (MODEL_S3_URI). Either way the same checks run
(runtime/model.py: sha256, artifact digest, reference rows), and MODEL_SHA256, when set, pins
the artifact digest.

The S3 code (runtime/s3_source.py, runtime/s3.py) is imported only when MODEL_S3_URI is set: a
baked model's cold start does not pay for it.
"""

from __future__ import annotations

from .config import Settings
from .model import Model, check_pin


def load_model(settings: Settings, environ=None):
    """(model, source): source is None for a baked model, else the S3Source that fetched it
    and can refresh it (runtime/s3_source.py), with region, endpoint and credentials from
    ``environ`` (default os.environ)."""
    if not settings.model_s3_uri:
        model = Model.load(settings)
        check_pin(model.schema.digest, settings, str(settings.model_dir))
        return model, None
    from .s3_source import S3Source

    source = S3Source(settings, environ)
    return source.load(), source


def source_log_fields(source) -> dict:
    """The init line's account of where the model came from."""
    return {"model_source": "baked"} if source is None else source.log_fields()
