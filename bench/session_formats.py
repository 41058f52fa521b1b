"""Does an offline-optimized model (or the ORT format) cut onnxruntime's session creation?

python -m lambda_tabular.bench.session_formats build/models/churn [build/models/water_quality ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 40


def creation_ms(path: str, level, repeats: int = REPEATS) -> float:
    import onnxruntime as ort

    samples = []
    for _ in range(repeats):
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        start = time.perf_counter()
        ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def compare(model_dir: Path) -> dict[str, float]:
    import onnxruntime as ort

    levels = ort.GraphOptimizationLevel
    raw = str(model_dir / "model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        optimized, ort_format = f"{tmp}/optimized.onnx", f"{tmp}/model.ort"
        for target, config in ((optimized, None), (ort_format, "ORT")):
            options = ort.SessionOptions()
            options.graph_optimization_level = levels.ORT_ENABLE_EXTENDED
            options.optimized_model_filepath = target
            if config:
                options.add_session_config_entry("session.save_model_format", config)
            ort.InferenceSession(raw, options, providers=["CPUExecutionProvider"])
        return {
            "raw, ENABLE_ALL": creation_ms(raw, levels.ORT_ENABLE_ALL),
            "raw, ENABLE_BASIC": creation_ms(raw, levels.ORT_ENABLE_BASIC),
            "raw, DISABLE_ALL": creation_ms(raw, levels.ORT_DISABLE_ALL),
            "pre-optimized .onnx, DISABLE_ALL": creation_ms(optimized, levels.ORT_DISABLE_ALL),
            "ORT format, DISABLE_ALL": creation_ms(ort_format, levels.ORT_DISABLE_ALL),
        }


def main(argv: list[str]) -> int:
    for folder in argv or ["build/models/churn"]:
        print(f"{folder}: median session creation of {REPEATS}")
        for name, ms in compare(Path(folder)).items():
            print(f"  {name:<34} {ms:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
