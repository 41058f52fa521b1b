"""A root file system made into a Docker image whose config names its architecture.

`docker import` would be the short way, but Docker 20.10 (Debian's docker.io) ignores
`import --platform` and labels every imported image with the engine's own architecture, so an
arm64 root file system would come out as an amd64 image. Instead we write the archive
`docker save` writes (manifest.json, the image config, one layer) with the config we mean, and
`docker load` it: the image says linux/arm64, and so does any registry it is pushed to.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path

from .. import arch as architectures
from ..shell import run

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EPOCH = "1970-01-01T00:00:00Z"  # the config's dates: the image ID depends on the contents only


def image_config(arch: str, diff_id: str, env: dict[str, str], cmd: list[str], created_by: str) -> dict:
    """The image config (OCI image spec, as Docker reads it) of a one-layer image."""
    config = {
        "architecture": architectures.DOCKER[arch],
        "os": "linux",
        "created": EPOCH,
        "config": {"Env": [f"PATH={DEFAULT_PATH}"] + [f"{k}={v}" for k, v in env.items()], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": EPOCH, "created_by": created_by}],
    }
    if arch == "arm64":
        config["variant"] = "v8"  # what registries and `docker pull --platform linux/arm64` record
    return config


def write_archive(layer: Path, out: Path, tag: str, arch: str, env: dict[str, str], cmd: list[str],
                  created_by: str) -> str:
    """The `docker load` archive of a one-layer image from the tar file ``layer``; returns the
    image ID (the config's sha256)."""
    digest = hashlib.sha256()
    with open(layer, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    diff_id = f"sha256:{digest.hexdigest()}"
    config = json.dumps(image_config(arch, diff_id, env, cmd, created_by), sort_keys=True).encode()
    config_id = hashlib.sha256(config).hexdigest()
    layer_name = f"{digest.hexdigest()}/layer.tar"
    manifest = json.dumps([{"Config": f"{config_id}.json", "RepoTags": [tag], "Layers": [layer_name]}]).encode()
    with tarfile.open(out, "w") as archive:
        for name, data in ((f"{config_id}.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        archive.add(layer, arcname=layer_name)
    return f"sha256:{config_id}"


def load_rootfs(rootfs: Path, tag: str, arch: str, env: dict[str, str], cmd: list[str], created_by: str) -> str:
    """Load the directory ``rootfs`` into the engine as ``tag``, an image of ``arch``; return its ID."""
    with tempfile.TemporaryDirectory(prefix="rootfs-image-", dir="/var/tmp") as tmp:
        layer, archive = Path(tmp) / "layer.tar", Path(tmp) / "image.tar"
        run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(layer), "."], quiet=True)
        image_id = write_archive(layer, archive, tag, arch, env, cmd, created_by)
        layer.unlink()
        run(["docker", "load", "--quiet", "--input", str(archive)], quiet=True)
    return image_id


def architecture(image: str) -> str:
    """What the image's config says: amd64, arm64, ..."""
    return run(["docker", "image", "inspect", "--format", "{{.Architecture}}", image], quiet=True).strip()
