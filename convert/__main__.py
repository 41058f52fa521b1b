"""lambda-tabular convert MODEL --out DIR: a trained model to a verified ONNX artifact."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ..runtime.text import first_line
from . import environments
from .checks import MODEL_HELP, Request, check_request
from .errors import ConvertError, InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a malformed command line is one line (exit 4, as every argument error)."""

    def error(self, message: str):
        raise InputError(f"{message} (lambda-tabular convert --help shows the usage)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(
        prog="lambda-tabular convert",
        description=(
            "Convert a scikit-learn, XGBoost or LightGBM model to ONNX, prove that onnxruntime predicts "
            "what the original predicts, and write DIR/model.onnx and DIR/model.json. "
            "Pickle/joblib files run code when loaded: convert only files you trust."
        ),
    )
    parser.add_argument("model", type=Path, help=MODEL_HELP)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--features", type=_names,
        help="comma-separated feature names in training order (for models trained on arrays)",
    )
    parser.add_argument("--sample", type=Path, help="CSV (with a header) or .npy rows for parity")
    parser.add_argument(
        "--boolean", type=_names, metavar="NAMES",
        help="comma-separated features trained from bool columns, for models that do not record it "
             "(MLflow signatures and XGBoost do; a --sample CSV column of true and false does too)",
    )
    parser.add_argument("--name", help="model name (default: the model file's stem)")
    parser.add_argument("--model-version", default="1", help="model version (default: 1)")
    parser.add_argument(
        "--tolerance", type=float, default=1e-4,
        help="largest difference allowed, absolute below 1 and relative above (default: 1e-4)",
    )
    parser.add_argument(
        "--sklearn-version", default="auto",
        help="scikit-learn release to load and prove the model with: 'auto' (default) for the one the model "
             "file records, installed from the package index when it is not the one here; 'installed'; or a release",
    )
    parser.add_argument("--verbose", action="store_true", help="show tracebacks and warnings")
    return parser.parse_args(argv)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError("empty name in the list")
    return names


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        request = Request(
            model=args.model, out=args.out, features=args.features, sample=args.sample,
            name=args.name, version=args.model_version, tolerance=args.tolerance, booleans=args.boolean,
        )
        check_request(request)  # every flag, before any work (build checks again for API callers)
        release = environments.wanted(args.model, args.sklearn_version)
        if release is not None:
            return environments.run_inside(release, sys.argv[1:] if argv is None else argv)
        environments.check_inside()
    except ConvertError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    if not args.verbose:
        warnings.simplefilter("ignore")
    from .build import build  # the libraries every conversion needs: after the arguments are checked

    try:
        metadata = build(request)
    except ConvertError as err:
        if args.verbose:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # a bug or a library failure: still one line unless --verbose
        if args.verbose:
            raise
        print(f"error: unexpected {first_line(err, named=True)} "
              "(rerun with --verbose for the traceback)", file=sys.stderr)
        return 1
    print_report(metadata, args.out)
    return 0


def print_report(metadata: dict, out: Path) -> None:
    report = metadata["parity"]
    print(f"parity: passed on {report['rows']} rows, {metadata['onnx']['input_dtype']} inputs, tolerance {report['tolerance']:g}, "
          f"onnxruntime on {report.get('machine', 'this machine')}")
    print(f"  max abs diff {report['max_abs_diff']:.3g}, max rel diff {report['max_rel_diff']:.3g}", end="")
    if "label_agreement" in report:
        ties = report["label_disagreements_on_ties"]
        note = f" ({ties} differences, all where the original's top two classes tie)" if ties else ""
        print(f", label agreement {report['label_agreement']:.2%}{note}")
    else:
        print()
    for group, outcome in report["groups"].items():
        status = "ok" if outcome["passed"] else "refused at runtime"
        abs_diff = outcome["max_abs_diff"]
        shown = "n/a" if abs_diff is None else f"{abs_diff:.3g}"
        print(f"  {group:<24} {outcome['rows']:>5} rows  max abs diff {shown:<10} {status}")
    if "sample" not in report["groups"]:
        print("note: proven on rows derived from the model (its thresholds, their float64 and float32 "
              "neighbours, its fitted ranges); pass --sample with real rows to prove it on the values it will serve")
    print(f"wrote {out / 'model.onnx'} and {out / 'model.json'}")


if __name__ == "__main__":
    sys.exit(main())
