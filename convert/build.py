"""The converter's whole job: load, describe, convert, prove parity, write the artifact."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..runtime.schema import REFERENCE_KEYS
from ..runtime.text import first_line
from . import artifact, booleans, export, families, parity, probes, scores, tree_ensemble
from .checks import Request, check_request
from .errors import ConvertError, InputError, LoadError, ParityError, UnsupportedModel
from .load import load
from .sample import read_sample
from .schema import Schema, schema_of
from .steps import final_and_preceding

SCHEMA_VERSION = 1
REFERENCE_ROWS = 8


def build(request: Request, log=print) -> dict:
    """Convert ``request.model`` and write model.onnx and model.json into ``request.out``."""
    check_request(request)  # every argument, before any work
    loaded = load(request.model)
    mismatched = artifact.version_mismatches(loaded.trained_with)
    for library, (trained, running) in mismatched.items():
        log(f"warning: the model was saved by {library} {trained} and is read here by {running}; parity proves "
            f"the ONNX model against the model as {library} {running} computes it")
    try:
        return _build(request, loaded, mismatched, log)
    except ConvertError:
        raise
    except Exception as err:  # another release's model failing inside this release's code
        if not mismatched:
            raise
        raise LoadError(f"model {request.model}: {type(err).__name__}: {first_line(err)}{version_hint(mismatched)}") from err


def version_hint(mismatched: dict) -> str:
    return "".join(
        f"; it was saved by {library} {trained} and is read here by {running}"
        + (f": --sklearn-version {trained} converts it with that release" if library == "scikit-learn" else "")
        for library, (trained, running) in mismatched.items()
    )


def _build(request: Request, loaded, mismatched: dict, log) -> dict:
    model = loaded.model
    # An MLflow signature names the features of a model fitted without names.
    signature = None if hasattr(model, "feature_names_in_") else loaded.signature
    schema = schema_of(model, request.features or signature)
    booleans.mark(schema, model, loaded.column_types, request.booleans, request.sample)
    export.check_supported(model)
    log(f"model: {estimator_name(model)} ({schema.task}, {len(schema.features)} features)")

    groups = probes.probe_rows(model, schema)
    if request.sample is not None:
        groups = {"sample": read_sample(request.sample, schema), **groups}
    references = _original_outputs(model, schema, groups, mismatched)
    optional = _optional_groups(model, schema, groups["random"])

    onx, session, dtype, comparisons, attempts = _convert_with_parity(
        model, schema, groups, references, request.tolerance
    )
    refused_missing = _prove_optional(session, schema, dtype, optional, comparisons, request.tolerance)
    if refused_missing:
        log(
            "warning: ONNX does not reproduce how the original handles missing values in "
            f"{', '.join(refused_missing)}; the runtime will refuse missing values there"
        )

    report = _parity_report(comparisons, request.tolerance, dtype, attempts, refused_missing)
    artifact.canonical(onx)
    onnx_bytes = onx.SerializeToString(deterministic=True)
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "name": request.name or request.model.stem,
        "version": request.version,
        "task": schema.task,
        "features": [f.to_json() for f in schema.features],
        "classes": schema.classes,
        "onnx": {
            "file": "model.onnx",
            "sha256": artifact.sha256(onnx_bytes),
            "input_dtype": dtype,
            "input_layout": "columns" if schema.by_column else "matrix",
            "inputs": [i.name for i in onx.graph.input],
            "outputs": _output_names(onx, schema),
            "opsets": {d.domain or "ai.onnx": d.version for d in onx.opset_import},
            "tree_form": tree_ensemble.tree_form(onx),
        },
        "source": {
            "file": loaded.file.name,
            "sha256": artifact.sha256(loaded.file.read_bytes()),
            "estimator": estimator_name(model),
            "trained_with": loaded.trained_with,
        },
        "versions": artifact.library_versions(),
        "parity": report,
        "reference": _reference(session, schema, dtype, groups, optional, request.tolerance),
        "created_at": _created_at(),
    }
    metadata = artifact.sealed(metadata, metadata["onnx"]["sha256"])
    artifact.write_atomically(request.out, {"model.onnx": onnx_bytes, "model.json": artifact.to_json(metadata)})
    return metadata


def _original_outputs(model, schema: Schema, groups: dict, mismatched: dict) -> dict:
    """What the original answers on each group of parity rows; a failure is the user's input's."""
    references = {}
    for group, rows in groups.items():
        try:
            references[group] = parity.original_outputs(model, rows, schema)
        except Exception as err:
            raise InputError(
                f"the original model fails on the {group!r} parity rows: {first_line(err)}{version_hint(mismatched)}"
            ) from err
    return references


def _prove_optional(session, schema: Schema, dtype: str, optional: dict, comparisons: dict, tolerance: float) -> list[str]:
    """Compare the optional groups (missing values, text gaps), adding each outcome to
    ``comparisons`` and marking each feature nullable where its missing values pass; the names of
    the features whose missing values do not."""
    refused_missing = []
    for (kind, feature), (rows, expected) in optional.items():
        outcome = parity.compare(expected, parity.onnx_outputs(session, rows, schema, dtype), tolerance)
        comparisons[f"{kind}:{feature.name}"] = outcome
        if kind == "missing":
            feature.nullable = outcome.passed
            if not outcome.passed:
                refused_missing.append(feature.name)
    return refused_missing


def _convert_with_parity(model, schema, groups, references, tolerance):
    """Try float64 inputs first (exact preprocessing), then float32; keep the first that passes.

    For each, tree ensembles are tried rewritten as TreeEnsemble (ai.onnx.ml 5) first, then as
    the converter wrote them (convert/tree_ensemble.py); each attempt names its form. A rewrite
    that fails is only reported in the attempts: the errors raised are the converter's own."""
    attempts, failures = [], []
    exact = families.exact_trees(final_and_preceding(model)[0])
    for dtype in ("float64", "float32"):
        try:
            converted = export.to_onnx(model, schema, dtype)
            if schema.scores == scores.SCORES and schema.task == "classification" and len(schema.classes) == 2:
                feeds = parity.onnx_feeds(groups["random"], schema, dtype)
                converted = scores.one_binary_column(
                    converted, _session(converted.SerializeToString()), feeds, references["random"].values
                )
        except UnsupportedModel as err:
            attempts.append({"input_dtype": dtype, "outcome": str(err)})
            failures.append(err)
            continue
        for form, onx in _forms(converted, dtype, attempts, exact):
            rewritten = form == tree_ensemble.FORM
            try:
                session = _session(onx.SerializeToString())
                outputs = {group: parity.onnx_outputs(session, rows, schema, dtype) for group, rows in groups.items()}
            except UnsupportedModel as err:
                attempts.append(_attempt(dtype, form, str(err)))
                if not rewritten:
                    failures.append(err)
                continue
            except Exception as err:  # onnxruntime's own errors, running a rewritten model
                if not rewritten:
                    raise
                attempts.append(_attempt(dtype, form, f"onnxruntime cannot run it: {first_line(err)}"))
                continue
            comparisons = {
                group: parity.compare(references[group], outputs[group], tolerance) for group in groups
            }
            failed = {g: c for g, c in comparisons.items() if not c.passed}
            if not failed:
                attempts.append(_attempt(dtype, form, "passed"))
                return onx, session, dtype, comparisons, attempts
            group, worst = max(failed.items(), key=lambda item: item[1].max_abs_diff)
            message = _mismatch(group, worst, groups[group], tolerance) + _hint(model, group)
            attempts.append(_attempt(dtype, form, message))
            if not rewritten:
                failures.append(ParityError(message))
    parity_failures = [f for f in failures if isinstance(f, ParityError)]
    raise (parity_failures[0] if parity_failures else failures[0])


def _forms(converted, dtype: str, attempts: list, exact):
    """The converter's model rewritten as TreeEnsemble (ai.onnx.ml 5) when it can be (in
    float64 with ``exact``'s numbers, for families that compare in float64), then as converted;
    a rewrite that cannot be built is recorded in ``attempts`` with its reason."""
    original = tree_ensemble.tree_form(converted)
    if original is not None:
        try:
            yield tree_ensemble.FORM, tree_ensemble.rewrite(converted, exact=exact)
        except Exception as err:  # NotRewritten says why; anything else is a gap in the rewrite
            reason = str(err) if isinstance(err, tree_ensemble.NotRewritten) else f"{type(err).__name__}: {first_line(err)}"
            attempts.append(_attempt(dtype, tree_ensemble.FORM, f"not rewritten: {reason}"))
    yield original, converted


def _attempt(dtype: str, form: str | None, outcome: str) -> dict:
    """One entry of the parity report's attempts; ``form`` only for models with trees."""
    return {"input_dtype": dtype, **({"form": form} if form else {}), "outcome": outcome}


def _mismatch(group: str, outcome: parity.Comparison, rows: pd.DataFrame, tolerance: float) -> str:
    row = rows.iloc[outcome.worst_row].to_dict()
    shown = ", ".join(f"{k}={v!r}" for k, v in list(row.items())[:6])
    labels = ""
    if outcome.labels_compared:
        wrong = outcome.labels_compared - outcome.labels_agree - outcome.labels_ambiguous
        labels = f", {wrong} of {outcome.labels_compared} labels differ"
    return (
        f"parity failed on {group} rows: max abs diff {outcome.max_abs_diff:.3g} > tolerance "
        f"{tolerance:g}{labels} (worst row: {shown}); the ONNX model would answer differently"
    )


def _hint(model, group: str) -> str:
    """What a parity failure means, where a known trap explains it."""
    from sklearn.calibration import CalibratedClassifierCV

    if group == "training":
        return (
            ". On rows like its training data, neighbours tie at the same distance and onnxruntime picks "
            "other ones than scikit-learn; with discrete features no conversion can serve this model faithfully"
        )
    steps = [model, *model.get_params(deep=True).values()] if hasattr(model, "get_params") else [model]
    if any(isinstance(s, CalibratedClassifierCV) and s.method == "isotonic" for s in steps):
        return (
            ". skl2onnx does not interpolate isotonic calibration the way scikit-learn does; "
            "calibrate with method='sigmoid', which converts exactly"
        )
    return ""


def _optional_groups(model, schema: Schema, random_rows: pd.DataFrame) -> dict:
    """Rows with a missing number or an unseen category, for each feature the original accepts
    them in; a feature the original refuses them for is marked so the runtime refuses too."""
    groups = {}
    for feature in schema.features:
        missing = probes.missing_text(model) if feature.kind == "string" else np.nan  # numbers and booleans: NaN
        candidates = [("missing", _with(random_rows.head(16), feature.name, [missing]))]
        if feature.kind == "string":
            candidates.append(("unseen", _with(random_rows.head(8), feature.name, probes.UNSEEN)))
        for kind, rows in candidates:
            try:
                expected = parity.original_outputs(model, rows, schema)
            except Exception:
                feature.closed = feature.closed or kind == "unseen"
                continue
            groups[(kind, feature)] = (rows, expected)
    return groups


def _with(rows: pd.DataFrame, name: str, values) -> pd.DataFrame:
    """``rows`` repeated once per value, ``name`` set to that value."""
    out = pd.concat([rows] * len(values), ignore_index=True)
    out[name] = pd.Series([v for v in values for _ in range(len(rows))], dtype=out[name].dtype)
    return out


def _reference(session, schema, dtype, groups, optional, tolerance) -> dict:
    parts = [groups["random"].head(4)]
    parts += [g.head(2) for name, g in groups.items() if name in ("threshold", "sample")]
    parts += [
        rows.head(1) for (kind, feature), (rows, _) in optional.items()
        if kind == "unseen" or feature.nullable
    ]
    rows = pd.concat(parts, ignore_index=True).head(REFERENCE_ROWS)
    outputs = parity.onnx_outputs(session, rows, schema, dtype)
    reference = {"rows": [
        [_as_sent(v, f) for v, f in zip(row, schema.features, strict=True)] for row in rows.itertuples(index=False)
    ]}
    if outputs.labels is not None:
        reference["labels"] = [_plain(v) for v in outputs.labels]
    if outputs.values is not None:
        reference[REFERENCE_KEYS.get(schema.scores, schema.scores)] = outputs.values.tolist()
    reference["tolerance"] = tolerance
    return reference


def _parity_report(comparisons, tolerance, dtype, attempts, refused_missing) -> dict:
    served = [c for g, c in comparisons.items() if c.passed or not g.startswith("missing:")]
    report = {
        "tolerance": tolerance,
        "passed": True,
        "machine": platform.machine(),  # where onnxruntime was proven: aarch64 for an arm64 build, even emulated
        "input_dtype": dtype,
        "rows": sum(c.rows for c in served),
        "max_abs_diff": max(c.max_abs_diff for c in served),
        "max_rel_diff": max(c.max_rel_diff for c in served),
    }
    labelled = [c for c in served if c.labels_compared]
    if labelled:
        report["label_agreement"] = sum(c.labels_agree for c in labelled) / sum(c.labels_compared for c in labelled)
        report["label_disagreements_on_ties"] = sum(c.labels_ambiguous for c in labelled)
    report["groups"] = {g: c.to_json() for g, c in comparisons.items()}
    report["attempts"] = attempts
    report["missing_values_refused"] = refused_missing
    return report


def _created_at() -> str:
    """Now, or SOURCE_DATE_EPOCH (reproducible-builds.org) so that a rebuild gives the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return when.isoformat(timespec="seconds")


def _output_names(onx, schema: Schema) -> dict:
    """model.json's onnx.outputs: what each served output is, and its name in the graph."""
    names = [o.name for o in onx.graph.output]
    if schema.task == "regression":
        return {"prediction": names[0]}
    return {"label": names[0], **({schema.scores: names[1]} if schema.scores else {})}


def estimator_name(model) -> str:
    steps = getattr(model, "steps", None)
    if steps:
        return f"{type(model).__name__}({', '.join(estimator_name(s) for _, s in steps)})"
    transformers = getattr(model, "transformers_", None)
    if transformers:
        inner = [estimator_name(t) if not isinstance(t, str) else t for _, t, _ in transformers]
        return f"{type(model).__name__}({', '.join(inner)})"
    return type(model).__name__


def _session(onnx_bytes: bytes):
    import onnxruntime as ort

    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: the converters leave unused initializers behind
        return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as err:
        raise UnsupportedModel(f"onnxruntime cannot load the converted model: {first_line(err)}") from err


def _as_sent(value, feature):
    """A probe value as a client sends it: a boolean feature's 0 and 1 as false and true."""
    value = _plain(value)
    return bool(value) if feature.kind == "boolean" and value is not None else value


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value



__all__ = ["ConvertError", "Request", "build"]
