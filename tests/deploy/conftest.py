"""Real HTTP endpoints on loopback for the deploy tests: a moto server for the ECR, Lambda and
IAM APIs, and Debian's docker-registry standing in for ECR's registry side."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lambda_tabular.deploy.local.container import free_port

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
ROLE_NAME = "lambda-tabular-exec"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _wait_http(url: str, proc: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-500:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (the registry says 401 until logged in)
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{what} did not answer on {url} within {timeout:.0f} s: {log.read_text()[-500:]}")


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """moto's HTTP server on a free loopback port. MOTO_LAMBDA_STUB_ECR=false makes its Lambda
    accept only image URIs whose digest its ECR knows, as AWS does."""
    folder = tmp_path_factory.mktemp("moto")
    log = folder / "moto.log"
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_LAMBDA_STUB_ECR": "false",
                 # moto_requests: what reached the server, recorded only while a test asks
                 "MOTO_RECORDER_FILEPATH": str(folder / "requests.jsonl")},
        )
    url = f"http://127.0.0.1:{port}"
    _wait_http(f"{url}/moto-api/", proc, "moto server", log)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def aws_env(moto_server, monkeypatch, tmp_path) -> dict:
    """A fresh moto and the standard AWS variables pointing at it, for this process and as the
    environment of `lambda-tabular` subprocesses. No real credentials or profiles are read."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).close()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    settings = {
        "AWS_ENDPOINT_URL": moto_server, "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


@dataclass
class Recorded:
    method: str
    path: str
    body: bytes
    query: str = ""
    headers: dict = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture
def moto_requests(moto_server, aws_env):
    """Every request the moto server receives during the test, as it arrived: for what moto
    accepts but does not keep (SnapStart), the request is the evidence. Call it for the list."""
    def post(action: str) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/recorder/{action}", method="POST")).close()

    def recorded() -> list[Recorded]:
        with urllib.request.urlopen(f"{moto_server}/moto-api/recorder/download-recording") as response:
            lines = response.read().decode().splitlines()
        requests = []
        for line in filter(None, lines):
            entry = json.loads(line)
            body = entry.get("body") or ""
            body = base64.b64decode(body) if entry.get("body_encoded") else body.encode()
            url = urllib.parse.urlsplit(entry["url"])
            requests.append(Recorded(entry["method"], url.path, body, url.query, entry.get("headers") or {}))
        return requests

    post("reset-recording")
    post("start-recording")
    yield recorded
    post("stop-recording")


@pytest.fixture
def role_arn(aws_env) -> str:
    import boto3

    iam = boto3.client("iam")
    return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


@pytest.fixture
def api_only_image(aws_env) -> str:
    """An image moto's ECR knows, registered through the API alone (no Docker): enough for the
    Lambda-side commands, which never pull it."""
    import hashlib

    import boto3

    config = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": config},
        "layers": [],
    })
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ecr = boto3.client("ecr")
    uri = ecr.create_repository(repositoryName="lambda-tabular-api-only")["repository"]["repositoryUri"]
    ecr.put_image(repositoryName="lambda-tabular-api-only", imageManifest=manifest, imageTag="1", imageDigest=digest)
    return f"{uri}@{digest}"


FAKE_DIGEST = "sha256:" + "ab" * 32  # what the stand-in docker says it pushed
FAKE_DOCKER = textwrap.dedent('''\
    #!{python}
    import json, os, sys
    log = os.environ["FAKE_DOCKER_LOG"]
    args = sys.argv[1:]
    stdin = sys.stdin.read() if args[:1] == ["login"] else None
    config = os.environ.get("DOCKER_CONFIG")
    with open(log, "a") as out:
        out.write(json.dumps({{"args": args, "stdin": stdin, "docker_config": config,
                              "config_exists": bool(config and os.path.isdir(config))}}) + "\\n")
    if args[:2] == ["image", "inspect"] and "{{{{.Architecture}}}}" in args:
        print("amd64")
    elif args[:2] == ["image", "inspect"] and "--format" in args:
        calls = [json.loads(line) for line in open(log)]
        target = [c["args"][2] for c in calls if c["args"][0] == "tag"][-1]
        print(json.dumps([target.rsplit(":", 1)[0] + "@{digest}"]))
''')


@pytest.fixture
def fake_docker(tmp_path, aws_env, monkeypatch) -> tuple[dict, Path]:
    """A `docker` that records its calls and pushes nothing: for this process and subprocesses."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=os.path.realpath(sys.executable), digest=FAKE_DIGEST))
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "docker-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{aws_env['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    return dict(os.environ), log


FAKE_ENGINE = textwrap.dedent('''\
    #!PYTHON
    import json, os, sys
    images = json.load(open(os.environ["FAKE_ENGINE_IMAGES"]))  # image ID: its digest, architecture, labels
    args = sys.argv[1:]
    if args[:1] == ["images"]:
        for image_id, image in images.items():
            print(image["digest"], image_id)
    elif args[:2] == ["image", "inspect"]:
        image = images.get(args[-1])
        if image is None:
            sys.exit(f"Error: No such image: {args[-1]}")
        print(image["architecture"] if "{{.Architecture}}" in args else json.dumps(image["labels"] or None))
    elif args[:1] != ["info"]:
        sys.exit(f"fake engine: unexpected docker {args}")
''')


@pytest.fixture
def local_engine(tmp_path, aws_env, monkeypatch):
    """A `docker` whose engine holds the images given to the returned function (an image URI by
    digest, its labels, its architecture by Docker's name), answering what `function --image`
    asks of a local image; for this process and subprocesses. Returns it with the environment."""
    bin_dir = tmp_path / "engine-bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_ENGINE.replace("PYTHON", os.path.realpath(sys.executable), 1))
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    images_file = tmp_path / "engine-images.json"
    images_file.write_text("{}")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{aws_env['PATH']}")
    monkeypatch.setenv("FAKE_ENGINE_IMAGES", str(images_file))

    def holds(uri: str, labels: dict[str, str], architecture: str = "amd64") -> dict:
        images = json.loads(images_file.read_text())
        digest = uri.partition("@")[2]
        images["sha256:" + hashlib.sha256(digest.encode()).hexdigest()] = {
            "digest": digest, "architecture": architecture, "labels": labels}
        images_file.write_text(json.dumps(images))
        return dict(os.environ)

    return holds


def deploy_cli(*args: str, env: dict, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
    """`lambda-tabular ARGS` as a user runs it."""
    done = subprocess.run([sys.executable, "-m", "lambda_tabular.deploy", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=Path(__file__).resolve().parents[2])
    if check and done.returncode != 0:
        raise AssertionError(f"lambda-tabular {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


def deploy_error(*args: str, env: dict) -> str:
    """`lambda-tabular ARGS` that must fail with exit code 1 and one `error: ...` line; that line."""
    done = deploy_cli(*args, env=env, check=False)
    assert done.returncode == 1, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def make_zip(path: Path, *, python: str | None = "3.12", arch: str = "x86_64", model: str = "1",
             handler: bool = True, random_mib: int = 0, zeros_mib: int = 0) -> Path:
    """The layout `make zip` writes, with stand-ins for the files: moto never runs the code, it
    stores the bytes. ``python``: the CPython tag of the stand-in extension module (None: none)."""
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[arch]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if handler:
            archive.writestr("runtime/__init__.py", "")
            archive.writestr("runtime/handler.py", "def handler(event, context):\n    return {}\n")
        if python:
            tag = python.replace(".", "")
            archive.writestr(f"numpy/_core/_multiarray_umath.cpython-{tag}-{machine}-linux-gnu.so", b"\x7fELF")
        archive.writestr("model/model.json", json.dumps({"name": "zip-test", "version": model}))
        archive.writestr("model/model.onnx", b"onnx")
        if random_mib:  # incompressible, stored as is: this many MiB zipped
            stored = zipfile.ZipInfo("model/random.bin", (1980, 1, 1, 0, 0, 0))
            with archive.open(stored, "w", force_zip64=True) as out:
                for _ in range(random_mib):
                    out.write(os.urandom(2**20))
        if zeros_mib:  # compresses to almost nothing: this many MiB unzipped
            with archive.open("model/zeros.bin", "w", force_zip64=True) as out:
                block = bytes(2**20)
                for _ in range(zeros_mib):
                    out.write(block)
    return path


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    user: str
    password: str

    def manifest(self, repository: str, digest: str) -> tuple[str, str]:
        """The manifest docker pushed, exactly as stored, and its media type."""
        request = urllib.request.Request(f"http://{self.host}/v2/{repository}/manifests/{digest}", headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
            "Authorization": "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode(),
        })
        with urllib.request.urlopen(request) as response:
            assert response.headers["Docker-Content-Digest"] == digest
            return response.read().decode(), response.headers["Content-Type"]

    def blob(self, repository: str, digest: str) -> bytes:
        """A blob as stored (the image config, say), checked against its digest."""
        request = urllib.request.Request(f"http://{self.host}/v2/{repository}/blobs/{digest}", headers={
            "Authorization": "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode(),
        })
        with urllib.request.urlopen(request) as response:
            data = response.read()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
        return data


def register_in_ecr(registry: Registry, repository: str, tag: str, digest: str) -> None:
    """On AWS, ECR's registry and its API are one service: a push is visible to DescribeImages
    and to Lambda at once. Here the bytes went to the stand-in registry, so tell moto's ECR API
    what the push produced: the real manifest under its real digest."""
    import boto3

    manifest, media_type = registry.manifest(repository, digest)
    boto3.client("ecr").put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag,
                                  imageManifestMediaType=media_type, imageDigest=digest)


def _registry_binary() -> str:
    binary = shutil.which("docker-registry")
    if binary:
        return binary
    debian_root = os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get")
    if debian_root:
        from lambda_tabular.deploy.local.engine import apt_install

        apt_install("docker-registry")
        binary = shutil.which("docker-registry")
    if binary:
        return binary
    reason = "no docker-registry (Debian package docker-registry; installed here only as root on Debian)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def registry(moto_server, docker_engine, tmp_path_factory) -> Registry:
    """docker-registry on a free loopback port (docker allows plain HTTP to 127.0.0.0/8), with
    basic auth for the user and password in moto's ECR token: the push must log in with it."""
    import bcrypt
    import boto3

    binary = _registry_binary()
    ecr = boto3.client("ecr", endpoint_url=moto_server, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    root = tmp_path_factory.mktemp("registry")
    (root / "htpasswd").write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}\n")
    port = free_port()
    (root / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        f"auth: {{htpasswd: {{realm: lambda-tabular-test, path: {root / 'htpasswd'}}}}}\n"
    )
    log = root / "registry.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=out, stderr=subprocess.STDOUT)
    _wait_http(f"http://127.0.0.1:{port}/v2/", proc, "docker-registry", log)
    yield Registry(f"127.0.0.1:{port}", user, password)
    proc.terminate()
    proc.wait(timeout=10)
