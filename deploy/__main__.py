"""python -m deploy: images and Lambda functions, locally and on AWS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DeployError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    engine = commands.add_parser("engine", help="make sure a Docker engine answers (installs one on Debian as root)")
    engine.set_defaults(run=_engine)

    image = commands.add_parser("image", help="build the lean Lambda image for a model file")
    image.add_argument("model", type=Path, help="joblib/pickle file or XGBoost .json/.ubj")
    image.add_argument("--tag", required=True, help="image name:tag")
    image.add_argument("--base", help="base image (default: the AWS Lambda Python image, else the local stand-in)")
    image.add_argument("--sample", type=Path, help="CSV or .npy rows for the converter's parity check")
    image.add_argument("--name", help="model name (default: the model file's stem)")
    image.add_argument("--model-version", default="1", help="model version (default: 1)")
    image.set_defaults(run=_image)

    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except DeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _engine(args) -> int:
    from .engine import ensure_engine

    ensure_engine()
    print("docker engine: ready")
    return 0


def _image(args) -> int:
    from .image import ImageRequest, build_image, format_report

    report = build_image(ImageRequest(
        model=args.model, tag=args.tag, base=args.base, sample=args.sample,
        name=args.name, version=args.model_version,
    ))
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
