"""The three images compared, built from the same model on the same base."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from ..convert import locations
from ..deploy import arch
from ..deploy.package import base_image, wheels
from ..deploy.package.image import ImageRequest, build_image, image_report
from ..deploy.package.zip import HANDLER, ZipRequest, build_zip, unpack
from ..deploy.shell import docker_build, run

HERE = Path(__file__).resolve().parent
ZIP_PYTHON = "3.13"  # the zip runtime this machine can stand in for (Debian trixie), as the image's default


def build_all(model: Path, sample: Path | None, base: str, log=print) -> dict[str, dict]:
    """{"lean", "baseline", "floor", "zip"}: a report each; unchanged images are reused."""
    log("building the lean image")
    lean = build_image(ImageRequest(model=model, tag="lambda-tabular/bench-lean:latest", base=base, sample=sample,
                                    arch=arch.host()), log=lambda *a: None)
    python = base_image.python_version(base)
    baseline = _build_simple("baseline", base, python, [HERE / "baseline" / "requirements.txt"],
                             {"model.joblib": _pickled(model)}, log)
    floor = _build_simple("floor", base, python, [locations.TOOL / "requirements-runtime.txt"], {}, log)
    return {"lean": lean, "baseline": baseline, "floor": floor, "zip": _zip_layout(model, sample, log)}


def _zip_layout(model: Path, sample: Path | None, log) -> dict:
    """`make zip`'s package, unpacked as Lambda unpacks it and mounted read-only at /var/task in
    the Lambda base of its runtime: {"image", "volumes", "command", sizes}."""
    log(f"building the zip (python{ZIP_PYTHON})")
    out = Path("build", "bench", "zip").resolve()
    report = build_zip(ZipRequest(model=model, out=out / "function.zip", python=ZIP_PYTHON, sample=sample,
                                  arch=arch.host()), log=lambda *a: None)
    task = out / "task"
    shutil.rmtree(task, ignore_errors=True)
    unpack(Path(report["zip"]), task)
    runtime_base = base_image.python_base(ZIP_PYTHON, arch.host(), log=lambda *a: None)
    return {
        "image": runtime_base, "base": runtime_base, "volumes": [f"{task}:/var/task:ro"], "command": [HANDLER],
        "size_bytes": report["unzipped_bytes"], "base_bytes": 0, "added_bytes": report["unzipped_bytes"],
        "zipped_bytes": report["zipped_bytes"], "sha256": report["sha256"],
    }


def _pickled(model: Path) -> bytes:
    """The model as the usual image ships it: a joblib pickle (XGBoost files are wrapped)."""
    if model.suffix.lower() not in (".json", ".ubj"):
        return model.read_bytes()
    import io

    import joblib

    from ..convert.load import load_model

    buffer = io.BytesIO()
    joblib.dump(load_model(model), buffer)
    return buffer.getvalue()


def _build_simple(kind: str, base: str, python: str, requirements: list[Path], extra: dict[str, bytes], log) -> dict:
    folder = HERE / kind
    digest = hashlib.sha256(base.encode())
    for path in sorted(folder.iterdir()) + requirements:
        digest.update(path.read_bytes())
    for name, data in sorted(extra.items()):
        digest.update(name.encode() + data)
    tag = f"lambda-tabular/bench-{kind}:{digest.hexdigest()[:12]}"
    if base_image.image_exists(tag):
        log(f"reusing the {kind} image {tag}")
        return image_report(tag, base)
    log(f"building the {kind} image (fetching its wheels first)")
    wheel_dir = wheels.download(requirements, python)
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        context = Path(tmp)
        for path in folder.iterdir():
            shutil.copy2(path, context / path.name)
        for path in requirements:
            shutil.copy2(path, context / path.name)
        for name, data in extra.items():
            (context / name).write_bytes(data)
        shutil.copytree(wheel_dir, context / "wheels")
        docker_build(["--build-arg", f"BASE_IMAGE={base}",
                      "--build-arg", f"PIP_WHEEL={wheels.pip_wheel_name(wheel_dir)}", "-t", tag, str(context)])
    _remove_other_tags(tag)
    return image_report(tag, base)


def _remove_other_tags(tag: str) -> None:
    """Each build of a kind is tagged by its inputs' digest: the kind's older builds are dropped, so the
    engine holds one image per kind however often the inputs change."""
    repository = tag.split(":")[0]
    listed = run(["docker", "image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}"], quiet=True)
    stale = [name for name in listed.split() if name != tag]
    if stale:
        run(["docker", "image", "rm", "--force", *stale], quiet=True)
