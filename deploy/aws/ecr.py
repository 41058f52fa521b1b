"""Push a local image to ECR: make the repository, log Docker in with ECR's token, tag, push,
and return the digest Lambda should deploy.

Local tests push the bytes to a registry on loopback (``registry=``) while the ECR API calls
go to the emulator: moto's ECR hands out tokens for a registry host that does not exist. The
repository URI Lambda gets is still ECR's, with the digest the push produced."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass

from ..arch import from_docker, runnable
from ..errors import DeployError
from ..local.engine import engine_answers
from ..package.rootfs_image import architecture
from ..shell import run, succeeds
from .session import call, is_loopback


@dataclass
class Pushed:
    repository_uri: str  # as ECR names it: ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME
    tag: str
    digest: str  # sha256:...
    pushed_to: str  # the reference docker pushed, on ECR's host or the registry override
    created: bool

    @property
    def image_uri(self) -> str:
        """What Lambda deploys: the image by digest, so a moved tag changes nothing."""
        return f"{self.repository_uri}@{self.digest}"


def default_repository(image: str) -> str:
    """lambda-tabular/water-quality:test -> lambda-tabular-water-quality (one path segment,
    the prefix deploy/aws/iam-policy.json allows)."""
    name = _split_tag(image)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):  # a registry host
        name = rest
    return name.replace("/", "-")


def push(ecr, image: str, repository: str | None = None, tag: str | None = None,
         registry: str | None = None, log=print) -> Pushed:
    if registry is not None and not is_loopback(registry):
        raise DeployError(
            f"--registry {registry}: only a loopback registry (127.0.0.1:PORT) may stand in for ECR; "
            "it receives ECR's login token"
        )
    if not engine_answers():
        raise DeployError("no Docker engine answers; start one with `lambda-tabular engine`")
    arch = runnable(_local_architecture(image), f"image {image}")
    repository = repository or default_repository(image)
    tag = tag or _split_tag(image)[1]
    uri, created = ensure_repository(ecr, repository)
    log(f"repository {repository}: {'created' if created else 'exists'} ({uri})")
    ecr_host, path = uri.split("/", 1)
    host = registry or ecr_host
    target = f"{host}/{path}:{tag}"
    user, password = _authorization(ecr)
    with tempfile.TemporaryDirectory(prefix="docker-config-") as config:
        # A throwaway Docker config: the token lives only as long as this push.
        env = {**os.environ, "DOCKER_CONFIG": config}
        run(["docker", "login", "--username", user, "--password-stdin", host],
            quiet=True, input=password, env=env)
        run(["docker", "tag", image, target], quiet=True)
        # The pushed tag stays, as `docker push` leaves it: with it the engine keeps the image's
        # repository digest, by which `function --image URI` finds the image's architecture.
        try:
            run(["docker", "push", "--quiet", target], quiet=True, env=env)
            digest = _repo_digest(image, f"{host}/{path}")
        except DeployError:
            if target != image:
                succeeds(["docker", "rmi", target])  # drops the extra tag only
            raise
    log(f"pushed {target}" + (f" (standing in for {ecr_host})" if registry else ""))
    if arch != "x86_64":  # the architecture Lambda gives a new function unless told
        log(f"{image} is an {arch} image: its function must be {arch} (`lambda-tabular function` on this machine sets that itself)")
    if registry is None:
        _confirm_in_ecr(ecr, repository, digest)
    return Pushed(uri, tag, digest, target, created)


def ensure_repository(ecr, name: str) -> tuple[str, bool]:
    found = call(f"describe ECR repository {name}", ecr.describe_repositories,
                 absent=("RepositoryNotFoundException",), repositoryNames=[name])
    if found:
        return found["repositories"][0]["repositoryUri"], False
    made = call(f"create ECR repository {name}", ecr.create_repository, repositoryName=name,
                imageScanningConfiguration={"scanOnPush": True})
    return made["repository"]["repositoryUri"], True


def _authorization(ecr) -> tuple[str, str]:
    data = call("get the ECR authorization token", ecr.get_authorization_token)["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return user, password


def _repo_digest(image: str, repository: str) -> str:
    digests = json.loads(run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", image], quiet=True))
    for reference in digests or []:
        name, _, digest = reference.partition("@")
        if name == repository:
            return digest
    raise DeployError(f"pushed {image} but docker reports no digest for {repository}; push it again")


def _confirm_in_ecr(ecr, repository: str, digest: str) -> None:
    call(f"find {digest} in ECR repository {repository} after the push", ecr.describe_images,
         repositoryName=repository, imageIds=[{"imageDigest": digest}])


@dataclass(frozen=True)
class LocalImage:
    architecture: str  # Lambda's name
    labels: dict[str, str]


def local_image(uri: str) -> LocalImage | None:
    """The local image that ``uri`` names, by name or by its repository digest (what `push`
    printed): its architecture by Lambda's name and its labels; None where this machine's
    engine has no such image."""
    if not engine_answers():
        return None
    candidates = [uri]
    digest = uri.partition("@")[2]
    if digest:
        listed = run(["docker", "images", "--digests", "--no-trunc", "--format", "{{.Digest}} {{.ID}}"], quiet=True)
        candidates += [line.split()[1] for line in listed.splitlines() if line.split()[:1] == [digest]]
    for candidate in candidates:
        try:
            return LocalImage(_local_architecture(candidate), _labels(candidate))
        except DeployError:
            continue
    return None


def _labels(image: str) -> dict[str, str]:
    """The image config's labels; none where it has none ("null")."""
    text = run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image], quiet=True)
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _local_architecture(image: str) -> str:
    """The local image's architecture, by Lambda's name."""
    try:
        return from_docker(architecture(image))
    except DeployError:
        raise DeployError(f"image {image}: not in the local Docker engine; build it with `make image` "
                          "or `lambda-tabular image`") from None


def _split_tag(image: str) -> tuple[str, str]:
    name = image.split("@", 1)[0]  # NAME[:TAG][@sha256:...]
    base, _, tag = name.rpartition(":")
    if not base or "/" in tag:  # no tag, or the colon was a registry port
        return name, "latest"
    return base, tag
