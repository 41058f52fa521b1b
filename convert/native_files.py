"""Native XGBoost, LightGBM and CatBoost model files, tried in a child process before the converter
reads them: their C++ parsers trust the file, and a damaged one can crash the process (a truncated
LightGBM text file, an XGBoost tree with a cycle), corrupt its heap or loop forever (a NUL byte
in a LightGBM file). The child loads the file and does what the converter then does with it
(dump its trees, predict a row); if it dies, hangs or fails, the file is refused in one line
and the converter itself never reads it. The child imports numpy and that library alone: under
emulation (an arm64 build on x86_64) anything more costs minutes.

`python -m lambda_tabular.convert.native_files KIND PATH` is the child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from .errors import LoadError

TIMEOUT_S = float(os.environ.get("LAMBDA_TABULAR_NATIVE_TIMEOUT_S", "120"))
LIBRARIES = {"xgboost": "XGBoost", "lightgbm": "LightGBM", "catboost": "CatBoost"}  # kind: convert/families/<kind>.py


def check(kind: str, path: Path) -> None:
    """Refuse ``path`` in one line unless a child process reads it as the converter will."""
    library = LIBRARIES[kind]
    _precheck(kind, path, library)
    try:
        done = subprocess.run([sys.executable, "-m", __name__, kind, str(path)],
                              capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise LoadError(f"model file {path}: {library} did not finish reading it in {TIMEOUT_S:g} s; the file is damaged, "
                        "and nothing was written") from None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise LoadError(f"model file {path}: {library} crashed reading it ({name}); the file is damaged, and nothing was written")
    if done.returncode != 0:
        lines = [line for line in done.stdout.splitlines() + done.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if line.startswith("refused: ")), lines[-1] if lines else "no reason given")
        raise LoadError(f"model file {path}: not a readable {library} model ({reason.removeprefix('refused: ')[:200]})")


def _precheck(kind: str, path: Path, library: str) -> None:
    data = path.read_bytes()
    nul = data.find(b"\0") if kind == "lightgbm" else -1
    if nul >= 0:
        raise LoadError(f"model file {path}: a NUL byte at offset {nul}; a {library} text model holds none")
    if kind == "xgboost" and path.suffix.lower() == ".json":
        try:
            model = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise LoadError(f"model file {path}: not valid JSON ({str(err)[:120]})") from None
        fault = xgboost_json_fault(model)
        if fault:
            raise LoadError(f"model file {path}: {fault}")


def xgboost_json_fault(model) -> str | None:
    """What makes an XGBoost JSON model unsafe to read, or None: children out of range or
    forming a cycle, and splits on features beyond num_feature."""
    try:
        learner = model["learner"]
        features = int(learner["learner_model_param"]["num_feature"])
        trees = learner["gradient_booster"]["model"]["trees"]
    except (KeyError, TypeError, ValueError):
        return None  # not the layout checked here; the child process reads it
    for t, tree in enumerate(trees if isinstance(trees, list) else []):
        try:
            left, right, split = tree["left_children"], tree["right_children"], tree["split_indices"]
        except (KeyError, TypeError):
            return f"tree {t} lacks its children or split indices"
        n = len(left)
        if len(right) != n or len(split) != n:
            return f"tree {t}'s node arrays have different lengths"
        seen, stack = set(), [0] if n else []
        while stack:
            node = stack.pop()
            if node in seen:
                return f"tree {t}'s nodes form a cycle at node {node}"
            seen.add(node)
            children = (left[node], right[node])
            if children == (-1, -1):
                continue
            if not all(isinstance(c, int) and 0 < c < n for c in children):
                return f"tree {t}'s node {node} has a child outside the tree ({children[0]}, {children[1]}; {n} nodes)"
            if not (isinstance(split[node], int) and 0 <= split[node] < features):
                return f"tree {t}'s node {node} splits on feature {split[node]}, beyond num_feature {features}"
            stack.extend(children)
    return None


def _xgboost(path: str) -> None:
    import numpy as np
    import xgboost

    booster = xgboost.Booster(model_file=path)
    booster.get_dump()
    booster.predict(xgboost.DMatrix(np.zeros((2, booster.num_features()))), validate_features=False)


def _lightgbm(path: str) -> None:
    import lightgbm
    import numpy as np

    booster = lightgbm.Booster(model_file=path)
    booster.dump_model()
    booster.predict(np.zeros((2, booster.num_feature())))


def _catboost(path: str) -> None:
    import catboost
    import numpy as np

    model = catboost.CatBoost()
    model.load_model(path, format="cbm")
    if not any(len(found) for found in (model.get_cat_feature_indices(), model.get_text_feature_indices(),
                                        model.get_embedding_feature_indices())):  # refused later, in one line
        model.predict(np.zeros((2, len(model.feature_names_))))


TRIALS = {"xgboost": _xgboost, "lightgbm": _lightgbm, "catboost": _catboost}  # as each family's load_file reads


def _child(kind: str, path: str) -> int:
    try:
        TRIALS[kind](path)
    except Exception as err:  # the library's own refusal, reported as one line
        text = str(err).strip().splitlines()
        print(f"refused: {text[-1] if text else type(err).__name__}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2]))
