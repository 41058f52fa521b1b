"""lambda-tabular: a trained model converted and proven, packaged as a Lambda image or .zip, run
as Lambda runs it, and deployed."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..convert.checks import MODEL_HELP
from .env_vars import parse_env
from .errors import DeployError
from .local import sandbox

PROG = "lambda-tabular"
# Verbs whose own command line is another module's: the arguments after the verb go to it whole.
PASSED_ON = {
    "convert": "convert a model to ONNX and prove onnxruntime answers what it answers (--help for its options)",
    "bench": "measure the lean image against the usual one and the floor (--help for its options)",
}
# What the optional dependencies bring: the extra that installs each.
EXTRAS = {"boto3": "aws", "botocore": "aws", "matplotlib": "bench"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(argv)
    except ModuleNotFoundError as err:
        extra = EXTRAS.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        verb = argv[0] if argv else ""
        print(f"error: `{PROG} {verb}` needs {err.name}, which the [{extra}] extra installs: "
              f"pip install '{PROG}[{extra}]'", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    if argv and argv[0] in PASSED_ON:
        return _passed_on(argv[0], argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except DeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def parser() -> argparse.ArgumentParser:
    """The whole command line: the local verbs here, the AWS ones from deploy/aws/commands.py."""
    from .aws.commands import add_commands

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help in PASSED_ON.items():
        commands.add_parser(name, help=help, add_help=False)
    _add_local_commands(commands)
    add_commands(commands)  # push, function, alias, ..., publish-model, release-model
    return parser


def _add_local_commands(commands) -> None:
    engine = commands.add_parser("engine", help="make sure a Docker engine answers (installs one on Debian as root)")
    engine.set_defaults(run=_engine)

    image = commands.add_parser("image", help="build the lean Lambda image for a model file")
    image.add_argument("model", type=Path, help=MODEL_HELP)
    image.add_argument("--tag", required=True, help="image name:tag")
    image.add_argument("--arch", default="x86_64",
                       help="x86_64 (default) or arm64; on another architecture than this machine's the build runs "
                            "emulated, parity gate included")
    image.add_argument("--python", help="the AWS Lambda Python base's version: 3.12, 3.13 (default) or 3.14")
    image.add_argument("--base", help="base image of that architecture (default: the AWS Lambda Python image of "
                                      "--python, else the local stand-in)")
    _conversion_arguments(image)
    image.set_defaults(run=_image)

    package = commands.add_parser("zip", help="build the Lambda .zip package for a model file (python3.12-3.14 runtimes)")
    package.add_argument("model", type=Path, help=MODEL_HELP)
    package.add_argument("--out", type=Path, required=True, help="the .zip to write")
    package.add_argument("--python", default="3.13", help="managed runtime's Python: 3.12, 3.13 or 3.14 (default: 3.13)")
    package.add_argument("--arch", default="x86_64",
                         help="x86_64 (default) or arm64; for another architecture than this machine's the model is "
                              "converted and its parity proven in an emulated container of that architecture")
    _conversion_arguments(package)
    package.set_defaults(run=_zip)

    serve = commands.add_parser("run", help="run an image or a .zip as Lambda does on loopback, invoke it with each payload, stop it")
    serve.add_argument("image", help="image name:tag, or a .zip from `zip` (run in the Lambda base of its Python)")
    serve.add_argument("--payload", action="append", required=True, help="JSON text, or @file")
    serve.add_argument("--memory", type=int, default=sandbox.DEFAULT_MEMORY_MB,
                       help="function memory in MB: the container's memory limit and CPU share, as on Lambda "
                            f"(default {sandbox.DEFAULT_MEMORY_MB}: one vCPU)")
    serve.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                       help="the function's environment, e.g. MODEL_S3_URI=s3://BUCKET/PREFIX/; repeatable")
    serve.set_defaults(run=_run)

    call = commands.add_parser("invoke", help="invoke a local emulator endpoint or a deployed function with boto3")
    call.add_argument("--payload", required=True, help="JSON text, or @file")
    call.add_argument("--endpoint", help="e.g. http://127.0.0.1:9000 for a local container (default: AWS)")
    call.add_argument("--function", default="function", help="function name or ARN (default: the emulator's 'function')")
    call.add_argument("--qualifier", help="version or alias")
    call.add_argument("--async", dest="asynchronous", action="store_true",
                      help="InvocationType Event: Lambda queues the event and answers 202 with a request id; the "
                           "answer goes to the on-success destination, a failure after retries to the on-failure one")
    call.add_argument("--region", help="AWS region (default: the standard AWS configuration)")
    call.add_argument("--profile", help="AWS profile (default: the standard AWS configuration)")
    call.set_defaults(run=_invoke)


def _conversion_arguments(sub: argparse.ArgumentParser) -> None:
    """What image and zip pass on to the converter, as `lambda-tabular convert` takes it."""
    sub.add_argument("--sample", type=Path, help="CSV or .npy rows for the converter's parity check")
    sub.add_argument("--name", help="model name (default: the model file's stem)")
    sub.add_argument("--model-version", default="1", help="model version (default: 1)")


def _passed_on(verb: str, argv: list[str]) -> int:
    if verb == "convert":
        from ..convert.__main__ import main as convert
        return convert(argv)
    from ..bench.__main__ import main as bench
    return bench(argv)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PROG)
    except PackageNotFoundError:  # a checkout not installed
        return "unknown"


def _engine(args) -> int:
    from .local.engine import ensure_engine

    ensure_engine()
    print("docker engine: ready")
    return 0


def _image(args) -> int:
    from .package.image import ImageRequest, build_image, format_report

    report = build_image(ImageRequest(
        model=args.model, tag=args.tag, base=args.base, python=args.python, sample=args.sample,
        name=args.name, version=args.model_version, arch=args.arch,
    ))
    print(format_report(report))
    return 0


def _zip(args) -> int:
    from .package.zip import ZipRequest, build_zip, format_report

    report = build_zip(ZipRequest(
        model=args.model, out=args.out, arch=args.arch, python=args.python, sample=args.sample,
        name=args.name, version=args.model_version,
    ))
    print(format_report(report))
    return 0


def _payload(text: str) -> bytes:
    data = Path(text[1:]).read_bytes() if text.startswith("@") else text.encode()
    try:
        json.loads(data)
    except json.JSONDecodeError as err:
        raise DeployError(f"--payload is not valid JSON: {err}") from err
    return data


def _print_answer(answer) -> None:
    print(f"status {answer.status}, version {answer.executed_version or '-'}"
          + (f", function error {answer.function_error}" if answer.function_error else ""))
    print(json.dumps(answer.body, indent=2))


def _run(args) -> int:
    from . import arch
    from .local.container import start
    from .local.emulation import ensure_emulation
    from .package.base_image import image_exists
    from .package.rootfs_image import architecture

    payloads = [_payload(p) for p in args.payload]
    env = parse_env(args.env)
    if not sandbox.MIN_MEMORY_MB <= args.memory <= sandbox.MAX_MEMORY_MB:
        raise DeployError(f"--memory {args.memory}: Lambda's memory sizes are "
                          f"{sandbox.MIN_MEMORY_MB} to {sandbox.MAX_MEMORY_MB} MB")
    if args.image.endswith(".zip"):
        with tempfile.TemporaryDirectory(prefix="zip-task-") as folder:
            return _serve(_zip_function(Path(args.image), Path(folder), args.memory, env), payloads)
    if not image_exists(args.image):
        raise DeployError(f"image {args.image}: not in the local Docker engine; build it with `make image`")
    image_arch = arch.runnable(arch.from_docker(architecture(args.image)), f"image {args.image}")
    ensure_emulation(image_arch)
    return _serve(start(args.image, memory_mb=args.memory, arch=image_arch, env=env), payloads)


def _zip_function(zip_path: Path, folder: Path, memory: int | None, env: dict[str, str] | None = None):
    """The package unpacked read-only at /var/task in the Lambda base of its Python, as Lambda runs a .zip."""
    from .aws.zip_code import inspect
    from .local.container import start
    from .package.base_image import python_base
    from .package.zip import HANDLER, unpack

    package = inspect(zip_path)  # what its extension modules were built for
    if len(package.runtimes) != 1 or len(package.architectures) != 1:
        raise DeployError(f"{zip_path}: extension modules for {len(package.runtimes)} Pythons and "
                          f"{len(package.architectures)} architectures; build it with make zip")
    unpack(zip_path, folder)
    python = next(iter(package.runtimes)).removeprefix("python")
    (arch,) = package.architectures
    return start(python_base(python, arch), volumes=[f"{folder}:/var/task:ro"], command=[HANDLER],
                 memory_mb=memory, arch=arch, env=env)


def _serve(container, payloads: list[bytes]) -> int:
    from .aws.invoke import invoke, lambda_client

    try:
        client = lambda_client(container.endpoint)
        for payload in payloads:
            _print_answer(invoke(client, payload))
    finally:
        container.stop()
    return 0


def _invoke(args) -> int:
    from .aws.invoke import invoke, lambda_client

    if args.asynchronous:
        return _invoke_async(args)
    client = lambda_client(args.endpoint, args.region, profile=args.profile)
    answer = invoke(client, _payload(args.payload), args.function, args.qualifier)
    _print_answer(answer)
    return 0 if answer.function_error is None else 1


def _invoke_async(args) -> int:
    from .aws.invoke import LOCAL_FUNCTION, invoke_async, lambda_client

    if args.function == LOCAL_FUNCTION:
        raise DeployError(f"--async needs --function naming a deployed function: '{LOCAL_FUNCTION}' is the local "
                          "emulator's, and the Runtime Interface Emulator runs every invocation at once (no event "
                          "queue, retries or destinations); invoke it without --async")
    client = lambda_client(args.endpoint, args.region, profile=args.profile)
    queued = invoke_async(client, _payload(args.payload), args.function, args.qualifier)
    print(f"status {queued.status}, queued, request id {queued.request_id or '-'}")
    return 0

