"""The AWS subcommands of python -m deploy: push, function, alias, canary, promote, rollback,
status, concurrency, url. Progress goes to stderr, the result to stdout, so
IMAGE=$(python -m deploy push ...) and VERSION=$(python -m deploy function ...) work."""

from __future__ import annotations

import argparse
import sys

from ..errors import DeployError
from .session import Aws, call


def add_commands(commands) -> None:
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--endpoint", help="AWS endpoint URL, e.g. a moto server on loopback (default: AWS_ENDPOINT_URL, else AWS)")
    aws.add_argument("--region", help="AWS region (default: the standard AWS configuration)")
    aws.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default profile)")

    def add(name, help, run, *args):
        sub = commands.add_parser(name, help=help, description=help, parents=[aws])
        for arg in args:
            sub.add_argument(*arg[0], **arg[1])
        sub.set_defaults(run=run)
        return sub

    def arg(*names, **kwargs):
        return names, kwargs

    function_arg = arg("function", help="function name")
    alias_arg = arg("alias", help="alias name, e.g. live")
    add("push", "push a local image to ECR (creating the repository), print its URI by digest", _push,
        arg("image", help="local image name:tag"),
        arg("--repository", help="ECR repository (default: the image name with / as -)"),
        arg("--tag", help="tag to push (default: the image's tag)"),
        arg("--registry", help="push the bytes to this loopback registry (HOST:PORT) instead of ECR's host: "
                               "for tests against an emulated ECR API"))
    add("function", "create or update a function from an image, wait until ready, publish a version, print it",
        _function, function_arg,
        arg("--image", required=True, help="image URI, best by digest (what `push` prints)"),
        arg("--role", help="execution role ARN (needed to create the function)"),
        arg("--memory", type=int, help="memory in MB (default on create: 1024)"),
        arg("--timeout", type=int, help="timeout in seconds (default on create: 30)"),
        arg("--architecture", choices=["x86_64", "arm64"], help="(default on create: x86_64)"),
        arg("--env", action="append", default=[], metavar="KEY=VALUE",
            help="environment variable, e.g. MODEL_VERSION=2; repeatable, merged into the function's"),
        arg("--description", help="version description (default: the image URI)"))
    add("alias", "point an alias at a version (creating it), dropping any canary; without --version show it",
        _alias, function_arg, alias_arg, arg("--version", help="published version number"))
    add("canary", "send a share of an alias's traffic to another version", _canary, function_arg, alias_arg,
        arg("--version", required=True, help="the new published version"),
        arg("--percent", type=float, default=10.0, help="share of requests for it (default: 10)"))
    add("promote", "give the alias's canary version all the traffic", _promote, function_arg, alias_arg)
    add("rollback", "take the canary out: the alias's main version gets all the traffic", _rollback,
        function_arg, alias_arg)
    add("status", "list a function's published versions and its aliases", _status, function_arg)
    add("concurrency", "set provisioned concurrency on an alias and wait until READY (0 removes it)",
        _concurrency, function_arg, alias_arg, arg("--count", type=int, required=True, help="environments"))
    add("url", "create a Function URL for an alias with IAM auth (SigV4-signed callers only), print it",
        _url, function_arg, alias_arg)


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
    from .functions import FunctionSpec, deploy

    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DeployError(f"--env {item}: expected KEY=VALUE")
        env[key] = value
    published = deploy(_aws(args).client("lambda"), FunctionSpec(
        name=args.function, image_uri=args.image, role=args.role, memory_mb=args.memory,
        timeout_s=args.timeout, architecture=args.architecture, environment=env, description=args.description,
    ), log=_log)
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
    from .aliases import from_api

    lam = _aws(args).client("lambda")
    versions = _all(lam, "list_versions_by_function", "Versions", args.function)
    aliases = _all(lam, "list_aliases", "Aliases", args.function)
    for version in versions:
        if version["Version"] != "$LATEST":
            model = version.get("Environment", {}).get("Variables", {}).get("MODEL_VERSION", "-")
            print(f"version {version['Version']}: code {version['CodeSha256'][:12]}, MODEL_VERSION {model}, "
                  f"{version['MemorySize']} MB, {version['Timeout']} s, {version['LastModified'][:19]}")
    for alias in aliases:
        print(from_api(args.function, alias).describe())
    return 0


def _all(lam, operation: str, key: str, function: str) -> list[dict]:
    pages = lam.get_paginator(operation).paginate(FunctionName=function)
    return call(f"list {key.lower()} of {function}", lambda: [item for page in pages for item in page[key]])


def _concurrency(args) -> int:
    from .alias_options import provision

    print(provision(_aws(args).client("lambda"), args.function, args.alias, args.count, log=_log))
    return 0


def _url(args) -> int:
    from .alias_options import function_url

    print(function_url(_aws(args).client("lambda"), args.function, args.alias))
    return 0
