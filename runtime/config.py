"""Every environment variable the runtime reads, and the settings derived from them.

Nothing else in runtime/ reads os.environ. An explicit argument to Settings beats the variable.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from .errors import ConfigError
from .text import encodable

MODEL_DIR = "MODEL_DIR"  # folder holding model.json and model.onnx
LAMBDA_TASK_ROOT = "LAMBDA_TASK_ROOT"  # set by Lambda; MODEL_DIR defaults to $LAMBDA_TASK_ROOT/model
FUNCTION_MEMORY_SIZE = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"  # set by Lambda, in MB
INTRA_OP_THREADS = "ORT_INTRA_OP_THREADS"
INTER_OP_THREADS = "ORT_INTER_OP_THREADS"
GRAPH_OPTIMIZATION = "ORT_GRAPH_OPTIMIZATION"
MAX_ROWS = "MAX_ROWS"
LOG_LEVEL = "LOG_LEVEL"
METRICS_NAMESPACE = "METRICS_NAMESPACE"
METRICS_DISABLED = "METRICS_DISABLED"
MODEL_VERSION = "MODEL_VERSION"  # the version to report, when a deployment names it (else model.json's)
FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda: the metrics' "function" dimension
# Set by Lambda: "snap-start" while it initializes an environment for a SnapStart snapshot (the
# runtime client runs the snapshot hooks exactly then); "on-demand", "provisioned-concurrency", ... otherwise.
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAP_START = "snap-start"
# A model published to S3 (lambda-tabular publish-model) instead of the one baked into the image or zip:
MODEL_S3_URI = "MODEL_S3_URI"  # s3://BUCKET/PREFIX/, holding manifest.json, model.json and the ONNX file
MODEL_S3_VERSION_ID = "MODEL_S3_VERSION_ID"  # the version of manifest.json to serve (default: the latest)
MODEL_SHA256 = "MODEL_SHA256"  # the artifact digest (integrity.digest) the model must have, S3 or baked
MODEL_REFRESH_SECONDS = "MODEL_REFRESH_SECONDS"  # warm environments look for a newer manifest this often
# What an S3 reader needs, as Lambda (and every AWS SDK) names it. Read only when MODEL_S3_URI is set.
AWS_REGION, AWS_DEFAULT_REGION = "AWS_REGION", "AWS_DEFAULT_REGION"
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"
# Under SnapStart, Lambda hands out credentials through this endpoint instead of the three above.
CONTAINER_CREDENTIALS_FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
CONTAINER_CREDENTIALS_RELATIVE_URI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
CONTAINER_AUTHORIZATION_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
CONTAINER_AUTHORIZATION_TOKEN_FILE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
TMPDIR = "TMPDIR"  # where the S3 model is cached (default /tmp, Lambda's only writable folder)

# numpy's bundled OpenBLAS starts a worker thread per visible CPU when numpy is imported, and
# Lambda shows two or more CPUs even where it grants one vCPU of time: the workers spin against
# the import itself (about 70 ms of a cold start at 1,769 MB). Tree inference never calls BLAS.
# Any of these set by the function's environment wins over our default.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

VARIABLES = (
    MODEL_DIR, LAMBDA_TASK_ROOT, FUNCTION_MEMORY_SIZE, INTRA_OP_THREADS, INTER_OP_THREADS,
    GRAPH_OPTIMIZATION, MAX_ROWS, LOG_LEVEL, METRICS_NAMESPACE, METRICS_DISABLED, MODEL_VERSION,
    INITIALIZATION_TYPE, FUNCTION_NAME, MODEL_S3_URI, MODEL_S3_VERSION_ID, MODEL_SHA256, MODEL_REFRESH_SECONDS,
    # read only with MODEL_S3_URI:
    AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN, CONTAINER_CREDENTIALS_FULL_URI, CONTAINER_CREDENTIALS_RELATIVE_URI,
    CONTAINER_AUTHORIZATION_TOKEN, CONTAINER_AUTHORIZATION_TOKEN_FILE, TMPDIR,
)

# Lambda gives a function one full vCPU at 1,769 MB and CPU time in proportion below and above.
MB_PER_VCPU = 1769
GRAPH_OPTIMIZATIONS = ("disable", "basic", "extended", "all")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_MAX_ROWS = 10_000
DEFAULT_GRAPH_OPTIMIZATION = "basic"
DEFAULT_NAMESPACE = "LambdaTabular"
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


class Settings(NamedTuple):
    model_dir: str | os.PathLike
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    graph_optimization: str = DEFAULT_GRAPH_OPTIMIZATION
    max_rows: int = DEFAULT_MAX_ROWS
    log_level: str = "INFO"
    metrics_namespace: str = DEFAULT_NAMESPACE
    metrics: bool = True
    model_version: str | None = None
    function_name: str | None = None
    model_s3_uri: str | None = None
    model_s3_version_id: str | None = None
    model_sha256: str | None = None
    model_refresh_seconds: int | None = None

    def checked(self) -> Settings:
        """These settings, or a ConfigError naming the variable that holds a value we cannot use."""
        if self.graph_optimization not in GRAPH_OPTIMIZATIONS:
            raise ConfigError(
                f"{GRAPH_OPTIMIZATION} must be one of {', '.join(GRAPH_OPTIMIZATIONS)}, "
                f"got {self.graph_optimization!r}"
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"{LOG_LEVEL} must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        for name, value in (
            (INTRA_OP_THREADS, self.intra_op_threads), (INTER_OP_THREADS, self.inter_op_threads),
            (MAX_ROWS, self.max_rows),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.model_version is not None:
            # Reported in every answer: at most 128 characters of valid Unicode (undecodable bytes in
            # the environment arrive as lone surrogates, which no UTF-8 answer can carry).
            text = self.model_version
            if not isinstance(text, str) or len(text) > 128 or not encodable(text):
                raise ConfigError(f"{MODEL_VERSION} must be at most 128 characters of valid Unicode, got {text!r:.80}")
        self._check_model_source()
        return self

    def _check_model_source(self) -> None:
        pin = self.model_sha256
        if pin is not None and (not isinstance(pin, str) or len(pin) != 64 or not set(pin) <= set("0123456789abcdef")):
            raise ConfigError(f"{MODEL_SHA256} must be the model's artifact digest, 64 hex digits (integrity.digest "
                              f"in model.json, as publish-model prints it), got {pin!r:.80}")
        if self.model_s3_uri is None:
            for name, value in ((MODEL_S3_VERSION_ID, self.model_s3_version_id),
                                (MODEL_REFRESH_SECONDS, self.model_refresh_seconds)):
                if value is not None:
                    raise ConfigError(f"{name} is set but {MODEL_S3_URI} is not: it applies to a model published to "
                                      f"S3; set {MODEL_S3_URI}=s3://BUCKET/PREFIX/ or unset {name}")
            return
        from .manifest import Location, version_id_problem  # only for S3 models

        try:
            Location.parse(self.model_s3_uri)
        except ValueError as err:
            raise ConfigError(f"{MODEL_S3_URI}: {err}") from None
        if self.model_s3_version_id is not None and version_id_problem(self.model_s3_version_id):
            raise ConfigError(f"{MODEL_S3_VERSION_ID}: {version_id_problem(self.model_s3_version_id)} "
                              "(the version of manifest.json that publish-model printed)")
        refresh = self.model_refresh_seconds
        if refresh is not None and (isinstance(refresh, bool) or not isinstance(refresh, int) or refresh < 1):
            raise ConfigError(f"{MODEL_REFRESH_SECONDS} must be a whole number of at least 1, got {refresh!r}")

    @property
    def model_pinned(self) -> bool:
        """A pin (a manifest version or an artifact digest) names one model: nothing to refresh."""
        return self.model_s3_version_id is not None or self.model_sha256 is not None

    @classmethod
    def from_env(cls, environ=None, **overrides) -> Settings:
        env = os.environ if environ is None else environ
        found = {
            "model_dir": _model_dir(env),
            "intra_op_threads": _whole(env, INTRA_OP_THREADS)
            or default_threads(_whole(env, FUNCTION_MEMORY_SIZE), os.cpu_count()),
            "inter_op_threads": _whole(env, INTER_OP_THREADS) or 1,
            "graph_optimization": env.get(GRAPH_OPTIMIZATION, DEFAULT_GRAPH_OPTIMIZATION).strip().lower(),
            "max_rows": _whole(env, MAX_ROWS) or DEFAULT_MAX_ROWS,
            "log_level": env.get(LOG_LEVEL, "INFO").strip().upper() or "INFO",
            "metrics_namespace": env.get(METRICS_NAMESPACE, "").strip() or DEFAULT_NAMESPACE,
            "metrics": not _flag(env, METRICS_DISABLED),
            "model_version": env.get(MODEL_VERSION, "").strip() or None,
            "function_name": env.get(FUNCTION_NAME, "").strip() or None,
            "model_s3_uri": env.get(MODEL_S3_URI, "").strip() or None,
            "model_s3_version_id": env.get(MODEL_S3_VERSION_ID, "").strip() or None,
            "model_sha256": env.get(MODEL_SHA256, "").strip().lower() or None,
            "model_refresh_seconds": _whole(env, MODEL_REFRESH_SECONDS),
        }
        return cls(**{**found, **overrides}).checked()


class AwsEnvironment(NamedTuple):
    """What the S3 reader (runtime/s3.py) takes from the environment. The secrets never print."""

    region: str
    endpoint_url: str | None  # AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: an S3 stand-in such as moto
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    container_uri: str | None  # SnapStart's credentials endpoint
    container_token: str | None
    container_token_file: str | None

    def __repr__(self) -> str:
        return f"AwsEnvironment(region={self.region!r}, endpoint_url={self.endpoint_url!r}, credentials hidden)"


def aws_environment(environ=None) -> AwsEnvironment:
    """Region, endpoint and credentials for reading the model from S3, or a ConfigError naming
    what is missing. Lambda sets all of it from the function's execution role and region."""
    env = os.environ if environ is None else environ
    get = lambda name: env.get(name, "").strip() or None  # noqa: E731
    region = get(AWS_REGION) or get(AWS_DEFAULT_REGION)
    if region is None:
        raise ConfigError(f"{MODEL_S3_URI} needs an AWS region: set {AWS_REGION} (Lambda sets it)")
    if not all(c.isalnum() or c == "-" for c in region) or len(region) > 32:
        raise ConfigError(f"{AWS_REGION} must be an AWS region such as us-east-1, got {region!r:.40}")
    endpoint = get(AWS_ENDPOINT_URL_S3) or get(AWS_ENDPOINT_URL)
    problem = endpoint and _endpoint_problem(endpoint)
    if problem:
        raise ConfigError(f"{AWS_ENDPOINT_URL_S3 if get(AWS_ENDPOINT_URL_S3) else AWS_ENDPOINT_URL} {problem}")
    access, secret = get(AWS_ACCESS_KEY_ID), get(AWS_SECRET_ACCESS_KEY)
    if (access is None) != (secret is None):
        missing = AWS_SECRET_ACCESS_KEY if secret is None else AWS_ACCESS_KEY_ID
        raise ConfigError(f"{missing} is not set, but its pair is: S3 requests need both")
    relative = get(CONTAINER_CREDENTIALS_RELATIVE_URI)
    container = get(CONTAINER_CREDENTIALS_FULL_URI) or (relative and f"http://169.254.170.2{relative}")
    if access is None and container is None:
        raise ConfigError(f"{MODEL_S3_URI} needs AWS credentials: {AWS_ACCESS_KEY_ID} and {AWS_SECRET_ACCESS_KEY} "
                          f"(or {CONTAINER_CREDENTIALS_FULL_URI}) are not set; Lambda sets them from the "
                          "function's execution role")
    return AwsEnvironment(region, endpoint, access, secret, get(AWS_SESSION_TOKEN), container,
                          get(CONTAINER_AUTHORIZATION_TOKEN), get(CONTAINER_AUTHORIZATION_TOKEN_FILE))


def _endpoint_problem(url: str) -> str | None:
    """What keeps ``url`` from being an S3 endpoint, shown without any user:password in it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    shown = repr(url.replace(parts.netloc, parts.netloc.rpartition("@")[2], 1) if "@" in parts.netloc else url)[:80]
    if parts.scheme not in ("http", "https"):
        return f"must be an http:// or https:// URL, got {shown}"
    try:
        _ = parts.port  # urllib checks the port when it is read
    except ValueError:
        return f"must name a port from 0 to 65535, got {shown}"
    if not parts.hostname:
        return f"must name a host, got {shown}"
    return None


def model_cache_dir(environ=None) -> str:
    """Where models fetched from S3 are kept between inits and refreshes: Lambda's /tmp."""
    env = os.environ if environ is None else environ
    return os.path.join(env.get(TMPDIR) or "/tmp", "lambda-tabular-models")


def limit_library_threads(environ=None) -> None:
    """One OpenBLAS thread unless the environment chose; call before numpy is first imported."""
    env = os.environ if environ is None else environ
    if not any(env.get(name, "").strip() for name in BLAS_THREAD_VARIABLES):
        env["OPENBLAS_NUM_THREADS"] = "1"


def snap_start(environ=None) -> bool:
    """Whether Lambda is initializing this environment for a SnapStart snapshot.

    The same test the Lambda runtime client makes before it runs the before-snapshot and
    after-restore hooks (awslambdaric's bootstrap.run): anywhere else they would never run.
    """
    env = os.environ if environ is None else environ
    return env.get(INITIALIZATION_TYPE) == SNAP_START


def default_threads(memory_mb: int | None, cpus: int | None) -> int:
    """One intra-op thread per whole vCPU the memory size buys, never more than the CPUs seen.

    Lambda shows every function two or more CPUs but caps its CPU time by memory size: at
    1,769 MB and below, a second thread only queues behind the first and gets throttled.
    Outside Lambda (no memory size) one thread, the measured best for single rows.
    """
    if not memory_mb:
        return 1
    return max(1, min(memory_mb // MB_PER_VCPU, cpus or 1))


def _model_dir(env) -> str:
    if env.get(MODEL_DIR):
        return env[MODEL_DIR]
    return os.path.join(env.get(LAMBDA_TASK_ROOT) or ".", "model")


def _whole(env, name: str) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {text!r}")
    return value


def _flag(env, name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(TRUE + FALSE[1:])}, got {text!r}")
