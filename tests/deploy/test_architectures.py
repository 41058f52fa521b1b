"""Architectures: the names on the command lines, the emulation check, the image archive that
makes a root file system an arm64 image, and the refusals that come before any work (without
Docker, but for the last test)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest

from lambda_tabular.deploy import arch
from lambda_tabular.deploy.aws import functions
from lambda_tabular.deploy.errors import DeployError
from lambda_tabular.deploy.local import emulation
from lambda_tabular.deploy.package import base_image, rootfs_image

from .conftest import deploy_error


@pytest.mark.parametrize("given,hint", [("sparc", ""), ("amd64", "; amd64 is x86_64"), ("aarch64", "; aarch64 is arm64")])
def test_an_unknown_architecture_is_one_line_naming_the_flag(given, hint):
    with pytest.raises(DeployError) as caught:
        arch.check(given, "--arch")
    assert str(caught.value) == f"--arch {given}: expected x86_64 or arm64 (Lambda's names{hint})"


def test_names_for_each_tool():
    assert [arch.MACHINE[a] for a in arch.ARCHITECTURES] == ["x86_64", "aarch64"]
    assert [arch.platform_of(a) for a in arch.ARCHITECTURES] == ["linux/amd64", "linux/arm64"]
    assert arch.from_docker("arm64") == "arm64" and arch.from_docker("amd64") == "x86_64"


def _binfmt(tmp_path, text: str | None):
    folder = tmp_path / "binfmt_misc"
    folder.mkdir()
    (folder / "register").write_text("")
    if text is not None:
        (folder / "qemu-aarch64").write_text(text)
    return folder


@pytest.mark.parametrize("text,expected", [
    ("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n", True),
    ("enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OC\n", False),  # containers could not use it
    ("disabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n", False),
    (None, False),
])
def test_emulation_counts_only_an_enabled_entry_usable_in_containers(tmp_path, text, expected):
    assert emulation.registered("aarch64", _binfmt(tmp_path, text)) is expected


def test_the_machines_own_architecture_needs_no_emulation(tmp_path, monkeypatch):
    monkeypatch.setattr(emulation, "debian_root", lambda: pytest.fail("looked for emulation"))
    emulation.ensure_emulation(arch.host(), binfmt=tmp_path)


def test_without_emulation_and_no_way_to_install_it_one_line_says_so(tmp_path, monkeypatch):
    other = next(a for a in arch.ARCHITECTURES if a != arch.host())
    monkeypatch.setattr(emulation, "debian_root", lambda: False)
    with pytest.raises(emulation.EmulationUnavailable) as caught:
        emulation.ensure_emulation(other, log=lambda *a: None, binfmt=_binfmt(tmp_path, None))
    message = str(caught.value)
    assert message.startswith(f"ARCH {other}: this {arch.MACHINE[arch.host()]} machine cannot run ")
    assert "qemu-user-static" in message and "\n" not in message


def test_the_load_archive_says_arm64_and_carries_the_layer_it_names(tmp_path):
    layer = tmp_path / "layer.tar"
    with tarfile.open(layer, "w") as out:
        info = tarfile.TarInfo("hello")
        info.size = 2
        out.addfile(info, io.BytesIO(b"hi"))
    image_id = rootfs_image.write_archive(layer, tmp_path / "image.tar", "lambda-tabular/probe:arm64", "arm64",
                                          {"LANG": "C.UTF-8"}, ["python3"], "debootstrap")
    with tarfile.open(tmp_path / "image.tar") as archive:
        (manifest,) = json.load(archive.extractfile("manifest.json"))
        config_bytes = archive.extractfile(manifest["Config"]).read()
        layer_bytes = archive.extractfile(manifest["Layers"][0]).read()
    config = json.loads(config_bytes)
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer.read_bytes()).hexdigest()]
    assert layer_bytes == layer.read_bytes()
    assert image_id == "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    assert manifest["RepoTags"] == ["lambda-tabular/probe:arm64"]
    assert "LANG=C.UTF-8" in config["config"]["Env"] and config["config"]["Cmd"] == ["python3"]
    amd64 = rootfs_image.image_config("x86_64", "sha256:0", {}, [], "x")
    assert amd64["architecture"] == "amd64" and "variant" not in amd64


def test_the_default_base_and_its_stand_in_run_the_same_python():
    assert base_image.DEFAULT_PYTHON == "3.13"
    assert base_image.DEBIAN_SUITES[base_image.DEFAULT_PYTHON] == base_image.DEFAULT_SUITE == "trixie"
    assert base_image.aws_base("3.13", "arm64") == "public.ecr.aws/lambda/python:3.13"  # no digest could be read
    assert base_image.aws_base("3.12", "x86_64").startswith("public.ecr.aws/lambda/python:3.12@sha256:")
    assert base_image.standin_image("trixie", "arm64") == "lambda-tabular/lambda-python:standin-trixie-arm64"


def test_a_stand_in_of_the_other_architecture_is_refused_as_base():
    other = next(a for a in arch.ARCHITECTURES if a != arch.host())
    with pytest.raises(DeployError) as caught:
        base_image.resolve_base(base_image.standin_image("trixie", other), arch.host(), log=lambda *a: None)
    assert str(caught.value).startswith("--base lambda-tabular/lambda-python:standin-trixie")
    assert f"not ARCH {arch.host()}" in str(caught.value)


@pytest.mark.parametrize("command", ["image", "zip"])
def test_the_cli_refuses_an_unknown_arch_before_any_work(command, tmp_path):
    model = tmp_path / "model.json"
    model.write_text("{}")
    target = ["--tag", "x:1"] if command == "image" else ["--out", str(tmp_path / "out.zip")]
    line = deploy_error(command, str(model), *target, "--arch", "arm", env={"PATH": "/nonexistent"})
    assert line == "error: ARCH arm: expected x86_64 or arm64 (Lambda's names)"
    assert not (tmp_path / "out.zip").exists()


@pytest.mark.docker
def test_run_and_push_refuse_an_image_of_an_architecture_lambda_does_not_run(docker_engine, tmp_path, monkeypatch):
    layer = tmp_path / "layer.tar"
    with tarfile.open(layer, "w") as out:
        out.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    monkeypatch.setitem(arch.DOCKER, "ppc64le", "ppc64le")
    tag = "lambda-tabular/probe:ppc64le"
    rootfs_image.write_archive(layer, tmp_path / "image.tar", tag, "ppc64le", {}, ["true"], "test")
    subprocess.run(["docker", "load", "--quiet", "--input", str(tmp_path / "image.tar")], check=True, capture_output=True)
    try:
        ran = deploy_error("run", tag, "--payload", "{}", env=dict(os.environ))
        pushed = deploy_error("push", tag, "--registry", "127.0.0.1:5999", "--endpoint", "http://127.0.0.1:9",
                              env=dict(os.environ))  # refused before any AWS call
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True)
    assert ran == pushed == f"error: image {tag}: built for ppc64le; Lambda runs x86_64 or arm64"


@pytest.mark.parametrize("asked, built, expected", [(None, "arm64", "arm64"), ("arm64", "arm64", "arm64"),
                                                    (None, None, None), ("arm64", None, "arm64")])
def test_an_image_function_takes_the_images_architecture_where_it_is_known(asked, built, expected):
    spec = functions.FunctionSpec(name="f", code=functions.ImageCode("repo@sha256:ab", built), architecture=asked)
    functions._resolve_image(spec)
    assert spec.architecture == expected


@pytest.mark.parametrize("asked, built", [("x86_64", "arm64"), (None, "ppc64le")])
def test_an_image_function_of_another_architecture_is_refused(asked, built):
    spec = functions.FunctionSpec(name="f", code=functions.ImageCode("repo@sha256:ab", built), architecture=asked)
    with pytest.raises(DeployError) as caught:
        functions._resolve_image(spec)
    assert str(caught.value).startswith("--image repo@sha256:ab") and built in str(caught.value)
