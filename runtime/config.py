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

# numpy's bundled OpenBLAS starts a worker thread per visible CPU when numpy is imported, and
# Lambda shows two or more CPUs even where it grants one vCPU of time: the workers spin against
# the import itself (about 70 ms of a cold start at 1,769 MB). Tree inference never calls BLAS.
# Any of these set by the function's environment wins over our default.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

VARIABLES = (
    MODEL_DIR, LAMBDA_TASK_ROOT, FUNCTION_MEMORY_SIZE, INTRA_OP_THREADS, INTER_OP_THREADS,
    GRAPH_OPTIMIZATION, MAX_ROWS, LOG_LEVEL, METRICS_NAMESPACE, METRICS_DISABLED, MODEL_VERSION,
    INITIALIZATION_TYPE, FUNCTION_NAME,
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
        return self

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
        }
        return cls(**{**found, **overrides}).checked()


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
