"""The AWS subcommands of lambda-tabular: push, function, alias, canary, promote, rollback,
status, concurrency, url, publish-model, release-model. Progress goes to stderr, the result to
stdout, so IMAGE=$(lambda-tabular push ...) and VERSION=$(lambda-tabular function ...) work."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..env_vars import parse_env
from ..errors import DeployError
from .capacity import MEMORY_PER_VCPU
from .session import Aws, call
from .zip_code import RUNTIMES, S3_PREFIX


def add_commands(commands) -> None:
    """The AWS verbs, each with --endpoint, --region and --profile, on the CLI's subparsers."""
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--endpoint", help="AWS endpoint URL, e.g. a moto server on loopback (default: AWS_ENDPOINT_URL, else AWS)")
    aws.add_argument("--region", help="AWS region (default: the standard AWS configuration)")
    aws.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default profile)")

    def add(name: str, help: str, run, *positionals: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[aws])
        for positional in positionals:
            sub.add_argument(positional, help=POSITIONALS[positional])
        sub.set_defaults(run=run)
        return sub

    push = add("push", "push a local image to ECR (creating the repository), print its URI by digest", _push)
    push.add_argument("image", help="local image name:tag")
    push.add_argument("--repository", help="ECR repository (default: the image name with / as -)")
    push.add_argument("--tag", help="tag to push (default: the image's tag)")
    push.add_argument("--registry", help="push the bytes to this loopback registry (HOST:PORT) instead of ECR's host: "
                                         "for tests against an emulated ECR API")
    _function_arguments(add("function", "create or update a function from an image or a .zip package, wait until "
                            "ready, publish a version, print it", _function, "function"))
    alias = add("alias", "point an alias at a version (creating it), dropping any canary; without --version show it",
                _alias, "function", "alias")
    alias.add_argument("--version", help="published version number")
    canary = add("canary", "send a share of an alias's traffic to another version", _canary, "function", "alias")
    canary.add_argument("--version", required=True, help="the new published version")
    canary.add_argument("--percent", type=float, default=10.0, help="share of requests for it (default: 10)")
    add("promote", "give the alias's canary version all the traffic", _promote, "function", "alias")
    add("rollback", "take the canary out: the alias's main version gets all the traffic", _rollback, "function", "alias")
    add("status", "list a function's published versions, its aliases, and the states of the alarms the SAM "
                  "templates set on it", _status, "function")
    concurrency = add("concurrency", "set provisioned concurrency on an alias and wait until READY (0 removes it)",
                      _concurrency, "function", "alias")
    concurrency.add_argument("--count", type=int, required=True, help="environments")
    add("url", "create a Function URL for an alias with IAM auth (SigV4-signed callers only), print it",
        _url, "function", "alias")
    _model_commands(add)


POSITIONALS = {"function": "function name", "alias": "alias name, e.g. live"}


def _model_commands(add) -> None:
    publish = add("publish-model", "check a converted model as the runtime does, upload it to a versioned S3 prefix "
                  "with its manifest, print MODEL_S3_URI, MODEL_S3_VERSION_ID and MODEL_SHA256", _publish_model)
    publish.add_argument("model_dir", type=Path,
                         help="the folder `lambda-tabular convert --out` wrote (model.json and model.onnx)")
    publish.add_argument("uri", help="s3://BUCKET/PREFIX/ in a bucket that keeps versions, e.g. "
                                     "s3://BUCKET/lambda-tabular/models/NAME/")
    release = add("release-model", "publish a function version serving one published model (same code and settings "
                  "as the alias's), then route a canary share of the alias to it, or all of it", _release_model,
                  "function", "alias")
    release.add_argument("--model-version-id", required=True,
                         help="the MODEL_S3_VERSION_ID publish-model printed (a version of manifest.json under the "
                              "function's MODEL_S3_URI); an older one rolls the model back")
    release.add_argument("--percent", type=float, default=10.0,
                         help="share of the alias's requests for it (default: 10, a canary; 100: all of them)")


def _function_arguments(function: argparse.ArgumentParser) -> None:
    code = function.add_mutually_exclusive_group(required=True)
    code.add_argument("--image", help="image URI, best by digest (what `push` prints)")
    code.add_argument("--zip", type=Path, help="a .zip package from `make zip` (handler runtime.handler.handler)")
    function.add_argument("--role", help="execution role ARN (needed to create the function)")
    function.add_argument("--memory", type=int, help="memory in MB (default on create: 1024)")
    function.add_argument("--timeout", type=int, help="timeout in seconds (default on create: 30)")
    function.add_argument("--architecture", choices=["x86_64", "arm64"],
                          help="(default: what the zip or the local image was built for, else on create x86_64)")
    function.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                          help="environment variable, e.g. MODEL_VERSION=2; repeatable, merged into the function's")
    function.add_argument("--description",
                          help="version description (default: the image URI, or the zip's name and sha256)")
    function.add_argument("--runtime", choices=list(RUNTIMES),
                          help="with --zip: the managed runtime (default: the Python the zip was built for, "
                               "else on update the function's)")
    function.add_argument("--snapstart", action=argparse.BooleanOptionalAction,
                          help="SnapStart on published versions (default: on for a zip, and for an image whose "
                               "labels in this machine's engine say Lambda can snapshot it)")
    function.add_argument("--s3-bucket", help="with --zip: upload the zip to this bucket (in the function's region) "
                                              "and deploy it from there; needed above 50 MiB zipped")
    function.add_argument("--s3-key",
                          help=f"with --s3-bucket: the object key (default: {S3_PREFIX}/FUNCTION/SHA256.zip)")
    _managed_instances_arguments(function)


def _managed_instances_arguments(function: argparse.ArgumentParser) -> None:
    function.add_argument("--capacity-provider", metavar="NAME_OR_ARN",
                          help="run on Lambda Managed Instances: this capacity provider, reused where it exists, "
                               "else created (with --subnets, --security-groups, --operator-role); Python 3.13+, "
                               "no SnapStart")
    function.add_argument("--subnets", type=_ids, default=[], metavar="ID,ID",
                          help="with --capacity-provider, to create it: the subnets its instances launch in")
    function.add_argument("--security-groups", type=_ids, default=[], metavar="ID,ID",
                          help="with --capacity-provider, to create it: the instances' security groups")
    function.add_argument("--operator-role", metavar="ARN",
                          help="with --capacity-provider, to create it: the role Lambda manages the instances with "
                               "(AWSLambdaManagedEC2ResourceOperator)")
    function.add_argument("--instance-types", type=_ids, default=[], metavar="TYPE,TYPE",
                          help="with --capacity-provider, to create it: the only EC2 instance types it may launch "
                               "(default: Lambda chooses)")
    function.add_argument("--max-vcpus", type=int,
                          help="with --capacity-provider, to create it: at most this many vCPUs in all "
                               "(default: Lambda's)")
    function.add_argument("--per-environment-concurrency", type=int, metavar="N",
                          help="with --capacity-provider: requests one execution environment serves at once, each "
                               "in its own Python process (1-1600; default: Lambda's, 16 per vCPU for Python)")
    function.add_argument("--memory-per-vcpu", type=int, choices=list(MEMORY_PER_VCPU),
                          help="with --capacity-provider: GiB of memory per vCPU (default: 2); --memory / this = vCPUs")


def _ids(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def _capacity(args):
    """The capacity provider --capacity-provider asks for; its other flags refused without it."""
    from .capacity import CapacityRequest

    settings = {"--subnets": args.subnets, "--security-groups": args.security_groups,
                "--operator-role": args.operator_role, "--instance-types": args.instance_types,
                "--max-vcpus": args.max_vcpus, "--per-environment-concurrency": args.per_environment_concurrency,
                "--memory-per-vcpu": args.memory_per_vcpu}
    if args.capacity_provider is None:
        for flag, value in settings.items():
            if value:
                raise DeployError(f"{flag}: only with --capacity-provider (Lambda Managed Instances)")
        return None
    if args.snapstart:
        raise DeployError("--snapstart: Lambda Managed Instances (--capacity-provider) has no SnapStart: "
                          "leave --snapstart out")
    if args.per_environment_concurrency is not None and not 1 <= args.per_environment_concurrency <= 1600:
        raise DeployError(f"--per-environment-concurrency {args.per_environment_concurrency}: 1 to 1600")
    return CapacityRequest(args.capacity_provider, args.subnets, args.security_groups, args.operator_role,
                           args.instance_types, args.max_vcpus, args.per_environment_concurrency, args.memory_per_vcpu)


def _aws(args) -> Aws:
    return Aws(args.endpoint, args.region, args.profile)


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def _push(args) -> int:
    from .ecr import push

    pushed = push(_aws(args).client("ecr"), args.image, args.repository, args.tag, args.registry, log=_log)
    _log(f"digest {pushed.digest}")
    print(pushed.image_uri)
    return 0


def _function(args) -> int:
    from . import zip_code
    from .functions import FunctionSpec, ImageCode, ZipCode, deploy, image_snapstart

    env = parse_env(args.env)
    if args.s3_key and not args.s3_bucket:
        raise DeployError("--s3-key: needs --s3-bucket, the bucket the zip goes to")
    placement = _capacity(args)
    if args.image is not None:
        for flag, value in (("--runtime", args.runtime), ("--s3-bucket", args.s3_bucket)):
            if value:
                raise DeployError(f"{flag}: only for a .zip package (--zip), not a container image")
        from ..package.snapstart import base_python
        from .ecr import local_image

        local = local_image(args.image)
        labels = local.labels if local else None
        snapstart, note = image_snapstart(args.snapstart if placement is None else False, args.image, labels)
        code = ImageCode(args.image, architecture=local.architecture if local else None, snapstart=snapstart,
                         snapstart_note=note, python=base_python(labels) if labels else None)
    else:
        # Every local check before any AWS call: the zip's contents and Lambda's size limits.
        package = zip_code.inspect(args.zip)
        zip_code.check_direct_upload(package, args.s3_bucket)
        code = ZipCode(package, runtime=args.runtime, snapstart=args.snapstart is not False,
                       s3_bucket=args.s3_bucket, s3_key=args.s3_key)
    aws = _aws(args)
    published = deploy(aws.client("lambda"), FunctionSpec(
        name=args.function, code=code, role=args.role, memory_mb=args.memory,
        timeout_s=args.timeout, architecture=args.architecture, environment=env, description=args.description,
        capacity=placement, snapstart_asked=args.snapstart,
    ), log=_log, s3=aws.client("s3") if args.s3_bucket else None)
    print(published.version)
    return 0


def _alias(args) -> int:
    from . import aliases

    lam = _aws(args).client("lambda")
    if args.version is None:
        state = aliases.get(lam, args.function, args.alias)
        if state is None:
            raise DeployError(f"alias {args.alias} of {args.function} does not exist; create it with --version N")
    else:
        state = aliases.point(lam, args.function, args.alias, args.version)
    print(state.describe())
    return 0


def _canary(args) -> int:
    from .aliases import start_canary

    print(start_canary(_aws(args).client("lambda"), args.function, args.alias, args.version, args.percent).describe())
    return 0


def _promote(args) -> int:
    from .aliases import promote

    print(promote(_aws(args).client("lambda"), args.function, args.alias).describe())
    return 0


def _rollback(args) -> int:
    from .aliases import rollback

    print(rollback(_aws(args).client("lambda"), args.function, args.alias).describe())
    return 0


def _status(args) -> int:
    from .alarms import alarm_lines
    from .aliases import from_api

    aws = _aws(args)
    lam = aws.client("lambda")
    versions = _all(lam, "list_versions_by_function", "Versions", args.function)
    aliases = _all(lam, "list_aliases", "Aliases", args.function)
    for version in versions:
        if version["Version"] != "$LATEST":
            variables = version.get("Environment", {}).get("Variables", {})
            model = variables.get("MODEL_VERSION", "-")
            s3_model = variables.get("MODEL_S3_VERSION_ID")
            s3_model = f", model from S3 (manifest version {s3_model})" if s3_model else (
                ", model from S3 (latest)" if variables.get("MODEL_S3_URI") else "")
            print(f"version {version['Version']}: {_package(version)}, code {version['CodeSha256'][:12]}, "
                  f"MODEL_VERSION {model}{s3_model}, {version['MemorySize']} MB, {version['Timeout']} s, "
                  f"{version['Architectures'][0]}, {version['LastModified'][:19]}")
    for alias in aliases:
        print(from_api(args.function, alias).describe())
    for line in alarm_lines(aws.client("cloudwatch"), args.function):
        print(line)
    return 0


def _package(version: dict) -> str:
    """Image, or Zip with its runtime, and the SnapStart state, as Lambda reports them."""
    snapstart = (version.get("SnapStart") or {}).get("ApplyOn", "None") == "PublishedVersions"
    package = "Image" if version.get("PackageType", "Zip") == "Image" else f"Zip {version.get('Runtime')}"
    managed = (version.get("CapacityProviderConfig") or {}).get("LambdaManagedInstancesCapacityProviderConfig")
    where = f", capacity provider {managed['CapacityProviderArn'].rsplit(':', 1)[1]}" if managed else ""
    return f"{package}, SnapStart {'on' if snapstart else 'off'}{where}"


def _all(lam, operation: str, key: str, function: str) -> list[dict]:
    pages = lam.get_paginator(operation).paginate(FunctionName=function)
    return call(f"list {key.lower()} of {function}", lambda: [item for page in pages for item in page[key]])


def _concurrency(args) -> int:
    from .alias_options import provision

    print(provision(_aws(args).client("lambda"), args.function, args.alias, args.count, log=_log))
    return 0


def _publish_model(args) -> int:
    from .model_store import location, publish

    location(args.uri)  # a malformed URI is refused before the model is even read
    print(publish(_aws(args).client("s3"), args.model_dir, args.uri, log=_log).env_lines())
    return 0


def _release_model(args) -> int:
    from .model_store import release

    aws = _aws(args)
    state = release(aws.client("lambda"), aws.client("s3"), args.function, args.alias, args.model_version_id,
                    args.percent, log=_log)
    print(state.describe())
    return 0


def _url(args) -> int:
    from .alias_options import function_url

    print(function_url(_aws(args).client("lambda"), args.function, args.alias))
    return 0
