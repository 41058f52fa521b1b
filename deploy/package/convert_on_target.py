"""`lambda-tabular convert` on the architecture a package will run on, for a package built on another
one: in a container of the target's Lambda Python base (emulated here), with the converter's
requirements installed on the host for that Python and architecture, and without the host's CPU
lists, as in Lambda's sandbox (an emulated onnxruntime fails on them). The parity gate then
compares the original model with that architecture's onnxruntime, as the image's convert stage
does inside a native build."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...convert import locations
from .. import arch as architectures
from ..errors import DeployError
from ..local import sandbox
from . import base_image, wheels

REQUIREMENTS = locations.TOOL / "requirements-build.txt"
# A family whose library only its own models need: its requirements, and how its model files are told.
CATBOOST_REQUIREMENTS = locations.TOOL / "requirements-catboost.txt"
# As the Dockerfile's convert stage: LightGBM needs libgomp.so.1; a base without one gets
# scikit-learn's bundled copy.
SCRIPT = ('ldconfig -p | grep -q "libgomp\\.so\\.1 " || { mkdir -p /tmp/convert-libs '
          '&& ln -s /opt/convert-deps/scikit_learn.libs/libgomp-*.so* /tmp/convert-libs/libgomp.so.1 '
          '&& export LD_LIBRARY_PATH=/tmp/convert-libs; }; exec python3 -m lambda_tabular.convert "$@"')


def requirements_for(model: Path, log=print) -> list[Path]:
    """The converter's requirements for ``model``: CatBoost's too for a CatBoost model, and the
    scikit-learn release that saved it in place of the pinned one, so that the build loads and
    proves the model with its own release (as `lambda-tabular convert` does on its own,
    convert/environments.py)."""
    family = [CATBOOST_REQUIREMENTS] if _is_catboost(model) else []
    return [_sklearn_requirements(model, log), *family]


def _is_catboost(model: Path) -> bool:
    """A .cbm file, or a file that names catboost's module (a pickle of one of its models)."""
    return model.is_file() and (model.suffix.lower() == ".cbm" or b"catboost" in model.read_bytes())


def _sklearn_requirements(model: Path, log) -> Path:
    from ...convert.environments import saved_by

    release = saved_by(model)
    pinned = re.search(r"(?m)^scikit-learn==(\S+)", REQUIREMENTS.read_text())
    if release is None or (pinned and release == pinned[1]):
        return REQUIREMENTS
    log(f"converting with scikit-learn {release}, which saved the model")
    text = re.sub(r"(?m)^scikit-learn==\S+", f"scikit-learn=={release}", REQUIREMENTS.read_text())
    text = re.sub(r"(?m)^-r\s+(\S+)", lambda m: f"-r {(REQUIREMENTS.parent / m[1]).resolve()}", text)
    path = locations.CACHE / "requirements" / f"build-scikit-learn-{release}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def converter_deps(python: str, arch: str, base: str, log=print, requirements: list[Path] | None = None) -> Path:
    """The converter's ``requirements`` for CPython ``python`` on ``arch``, installed on the host,
    with bytecode written natively: by ``base`` (the target's base) on this machine's
    architecture, else by the Lambda base of the same Python for this machine, where there is one."""
    compiler = base
    if arch != architectures.host():
        try:
            compiler = base_image.python_base(python, architectures.host(), log=lambda *a: None)
        except DeployError as err:
            log(f"no native Python {python} to write the converter's bytecode ({err}): the emulated one will")
            compiler = None
    return wheels.installed(requirements or [REQUIREMENTS], python, arch, compiler)


def convert_command(image: str, arch: str, deps: Path, model: Path, sample: Path | None, out: Path,
                    options: list[str], epoch: str) -> list[str]:
    """`docker run` of `lambda-tabular convert MODEL --out OUT [--sample SAMPLE] OPTIONS` in ``image``
    for ``arch``: sources and inputs read-only, no network, the model written to ``out`` (whose
    parent must exist) as this user."""
    inputs = {model: f"/opt/input/model/{model.name}"}
    if sample is not None:
        inputs[sample] = f"/opt/input/sample/{sample.name}"
        options = ["--sample", inputs[sample], *options]
    args = ["docker", "run", "--rm", "--platform", architectures.platform_of(arch), "--network", "none",
            *sandbox.hide_cpu_lists(), "--user", f"{os.getuid()}:{os.getgid()}", "--workdir", "/opt/src",
            "-v", f"{locations.TOOL / 'convert'}:/opt/src/lambda_tabular/convert:ro",
            "-v", f"{locations.TOOL / 'runtime'}:/opt/src/lambda_tabular/runtime:ro",
            "-v", f"{deps}:/opt/convert-deps:ro", "-v", f"{out.parent}:/opt/out",
            "-e", "PYTHONPATH=/opt/convert-deps:/opt/src", "-e", "PYTHONDONTWRITEBYTECODE=1", "-e", "HOME=/tmp",
            "-e", f"SOURCE_DATE_EPOCH={epoch}"]
    for host, inside in inputs.items():
        args += ["-v", f"{host.resolve()}:{inside}:ro"]
    return [*args, "--entrypoint", "sh", image, "-c", SCRIPT, "convert", inputs[model],
            "--out", f"/opt/out/{out.name}", *options]


def convert(model: Path, out: Path, *, arch: str, python: str, base: str, options: list[str],
            sample: Path | None = None, log=print) -> None:
    """Convert ``model`` into ``out`` on ``arch`` in ``base`` (Python ``python``), emulated: its
    parity gate proves the model on that architecture's onnxruntime. A failure is a DeployError
    with the converter's own last line."""
    import subprocess

    log(f"converting on {arch} (Python {python}, emulated: a few minutes)")
    deps = converter_deps(python, arch, base, log, requirements_for(model, log))
    done = subprocess.run(convert_command(base, arch, deps, model, sample, out, options, epoch(model)),
                          capture_output=True, text=True)
    report(model, done, log, here=out.parent)


def epoch(model: Path) -> str:
    """model.json's created_at: SOURCE_DATE_EPOCH if set, else the model file's modification
    time, so that the same model file gives the same bytes."""
    return os.environ.get("SOURCE_DATE_EPOCH") or str(int(model.stat().st_mtime))


def report(model: Path, done, log, here: Path | None = None) -> None:
    """The converter's output, logged; its failure, raised in one line."""
    stdout = done.stdout.replace("/opt/out/", f"{here}/") if here else done.stdout  # the container's paths, as here
    for line in stdout.splitlines():
        log(line)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise DeployError(f"convert {model}: {reason}")
