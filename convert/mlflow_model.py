"""MLflow model directories (`mlflow.<flavor>.save_model`, or a run's downloaded artifact): the
`MLmodel` file names the flavor, the model file and the versions it was trained with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..runtime.text import first_line
from .errors import LoadError, UnsupportedModel

MLMODEL = "MLmodel"
# flavor -> (key naming the model file, key naming the training version, library)
FLAVORS = {
    "sklearn": ("pickled_model", "sklearn_version", "scikit-learn"),
    "xgboost": ("data", "xgb_version", "xgboost"),
    "lightgbm": ("data", "lgb_version", "lightgbm"),
}


@dataclass
class MlflowModel:
    flavor: str
    file: Path
    serialization: str  # pickle, cloudpickle, skops, or a native format
    versions: dict[str, str] = field(default_factory=dict)  # library -> version it was trained with
    features: list[str] | None = None  # the signature's input names, in order
    column_types: dict[str, str] | None = None  # the signature's input types ("double", "boolean", ...), by name


def is_mlflow_dir(path: Path) -> bool:
    return path.is_dir() and (path / MLMODEL).is_file()


def read(path: Path) -> MlflowModel:
    """The model file and what MLmodel says of it; one line for anything else."""
    import yaml

    try:
        spec = yaml.safe_load((path / MLMODEL).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise LoadError(f"model directory {path}: {MLMODEL} is not readable YAML ({first_line(err)})") from err
    flavors = spec.get("flavors") if isinstance(spec, dict) else None
    if not isinstance(flavors, dict):
        raise LoadError(f"model directory {path}: {MLMODEL} has no flavors")
    flavor = next((f for f in FLAVORS if isinstance(flavors.get(f), dict)), None)
    if flavor is None:
        named = ", ".join(sorted(f for f in flavors if f != "python_function")) or "python_function only"
        raise UnsupportedModel(
            f"model directory {path}: MLflow flavor {named} is not supported; supported: {', '.join(FLAVORS)}"
        )
    file_key, version_key, library = FLAVORS[flavor]
    details = flavors[flavor]
    name = details.get(file_key)
    if not isinstance(name, str) or not name:
        raise LoadError(f"model directory {path}: {MLMODEL}'s {flavor} flavor names no model file ({file_key})")
    file = (path / name).resolve()
    if path.resolve() not in file.parents:
        raise LoadError(f"model directory {path}: {MLMODEL} names a model file outside the directory ({name})")
    if not file.is_file():
        raise LoadError(f"model directory {path}: {MLMODEL} names {name}, which is not there")
    versions = {library: str(details[version_key])} if details.get(version_key) else {}
    versions.update(_requirements(path / "requirements.txt"))
    serialization = str(details.get("serialization_format") or details.get("model_format") or "")
    inputs = _signature_inputs(spec.get("signature"), path)
    if inputs is None:
        return MlflowModel(flavor, file, serialization, versions)
    types = {i["name"]: i["type"] for i in inputs if isinstance(i.get("type"), str)}
    return MlflowModel(flavor, file, serialization, versions, [i["name"] for i in inputs], types)


def _signature_inputs(signature, path: Path) -> list[dict] | None:
    """A column-based signature's inputs, each with its name; None for a tensor signature or none."""
    import json

    if not isinstance(signature, dict) or not isinstance(signature.get("inputs"), str):
        return None
    try:
        inputs = json.loads(signature["inputs"])
    except ValueError as err:
        raise LoadError(f"model directory {path}: {MLMODEL}'s signature inputs are not JSON ({first_line(err)})") from err
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in inputs):
        return None
    return inputs


def _requirements(path: Path) -> dict[str, str]:
    """Exact pins (`name==version`) of the libraries the conversion depends on."""
    found = {}
    if not path.is_file():
        return found
    for line in path.read_text(errors="replace").splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        name = name.strip().lower().replace("_", "-")
        if sep and name in ("scikit-learn", "xgboost", "xgboost-cpu", "lightgbm", "numpy"):
            found[name.removesuffix("-cpu")] = version.strip()
    return found
