"""`lambda-tabular publish-model` and `release-model` against moto (S3 with versioning, Lambda):
what they upload and print, what they refuse, and a model released, promoted and rolled back
through an alias as an image release is."""

from __future__ import annotations

import hashlib
import json
import shutil

import boto3
import pytest

from tests.deploy.conftest import deploy_cli, deploy_error

from .support import BUCKET, URI, publish

FUNCTION = "lambda-tabular-s3-model"
PREFIX = URI.split("/", 3)[3]


def versions(s3) -> list[str]:
    return sorted(v["Key"] for v in s3.list_object_versions(Bucket=BUCKET).get("Versions", []))


def test_publish_model_uploads_the_files_then_the_manifest_and_prints_what_a_function_needs(models, s3, aws_env):
    done = deploy_cli("publish-model", str(models["v1"]), URI.rstrip("/"), env=aws_env)  # a folder, with or without /
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert list(printed) == ["MODEL_S3_URI", "MODEL_S3_VERSION_ID", "MODEL_SHA256"] and printed["MODEL_S3_URI"] == URI
    meta = json.loads((models["v1"] / "model.json").read_text())
    assert printed["MODEL_SHA256"] == meta["integrity"]["digest"]
    progress = done.stderr.splitlines()
    assert progress[0].startswith(f"checked {models['v1']}: water_quality 1, artifact digest {printed['MODEL_SHA256']}")
    assert [line.split(" (")[0] for line in progress[1:]] == [
        f"uploaded {URI}model.onnx", f"uploaded {URI}model.json", f"published {URI}manifest.json"]
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + "manifest.json",
                                        VersionId=printed["MODEL_S3_VERSION_ID"])["Body"].read())
    assert manifest["format"] == "lambda-tabular model manifest 1" and manifest["digest"] == printed["MODEL_SHA256"]
    assert manifest["model"] == {"name": "water_quality", "version": "1"}
    for name, ref in manifest["objects"].items():
        data = s3.get_object(Bucket=BUCKET, Key=PREFIX + name, VersionId=ref["version_id"])["Body"].read()
        assert data == (models["v1"] / name).read_bytes()
        assert (ref["sha256"], ref["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
        assert f"(version {ref['version_id']}, {len(data):,} bytes)" in done.stderr


@pytest.fixture
def broken(models, tmp_path):
    def make(change):
        folder = tmp_path / "model"
        shutil.copytree(models["v1"], folder)
        change(folder)
        return folder
    return make


def _reverse_classes(folder):
    meta = json.loads((folder / "model.json").read_text())
    meta["classes"] = meta["classes"][::-1]
    (folder / "model.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change,words", [
    (_reverse_classes, "integrity.digest does not match model.json and model.onnx"),
    (lambda folder: (folder / "model.onnx").write_bytes((folder / "model.onnx").read_bytes() + b"\0"),
     "the model file is corrupt or was swapped"),
    (lambda folder: (folder / "model.json").unlink(), "no model.json"),
])
def test_publish_model_refuses_a_model_the_runtime_would_refuse_and_uploads_nothing(broken, s3, aws_env, change, words):
    folder = broken(change)
    line = deploy_error("publish-model", str(folder), URI, env=aws_env)
    assert line.startswith(f"error: {folder}") and words in line
    assert versions(s3) == []


def test_publish_model_refuses_a_bucket_without_versions_and_publishes_nothing(models, aws_env):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    line = deploy_error("publish-model", str(models["v1"]), URI, env=aws_env)
    assert line.startswith(f"error: bucket {BUCKET} does not keep versions") and "put-bucket-versioning" in line
    assert line.endswith("nothing was uploaded") and "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


@pytest.mark.parametrize("uri,words", [
    ("https://bucket/models/", "expected s3://BUCKET/PREFIX/"),
    ("s3://UPPER/models/", "is not an S3 bucket name"),
])
def test_publish_model_refuses_a_malformed_uri_before_reading_the_model(aws_env, tmp_path, uri, words):
    line = deploy_error("publish-model", str(tmp_path / "nothing-here"), uri, env=aws_env)
    assert line.startswith(f"error: {uri}: ") and words in line


# -- releasing through an alias -------------------------------------------------------------------

def register_image(tag: str) -> str:
    """An image moto's ECR knows (through its API alone): Lambda only checks that it exists."""
    ecr = boto3.client("ecr")
    config = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                      "digest": config}, "layers": []})
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ecr.put_image(repositoryName="lambda-tabular-api-only", imageManifest=manifest, imageTag=tag, imageDigest=digest)
    return ecr.describe_repositories(repositoryNames=["lambda-tabular-api-only"])["repositories"][0]["repositoryUri"] + f"@{digest}"


@pytest.fixture
def s3_function(models, s3, aws_env, role_arn, api_only_image) -> dict:
    """FUNCTION serving the latest model at URI (MODEL_S3_URI), version 1 behind alias live;
    two publications: v1 and v2."""
    published = {name: publish(models[name]) for name in ("v1", "v2")}
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--env", f"MODEL_S3_URI={URI}",
               "--env", "MODEL_VERSION=1", env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    return published


def variables(version: str) -> dict:
    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier=version)
    return config["Environment"]["Variables"]


def test_a_model_goes_out_as_a_canary_is_promoted_and_rolled_back_by_version(s3_function, aws_env):
    v1, v2 = s3_function["v1"], s3_function["v2"]
    done = deploy_cli("release-model", FUNCTION, "live", "--model-version-id", v2["MODEL_S3_VERSION_ID"], env=aws_env)
    assert done.stdout == f"alias live of {FUNCTION}: version 1 (90%), version 2 (10%, canary)\n"
    assert f"model water_quality 2 at {URI} (manifest version {v2['MODEL_S3_VERSION_ID']}" in done.stderr
    assert "MODEL_VERSION removed" in done.stderr and "version 2 published" in done.stderr
    assert variables("2") == {"MODEL_S3_URI": URI, "MODEL_S3_VERSION_ID": v2["MODEL_S3_VERSION_ID"],
                              "MODEL_SHA256": v2["MODEL_SHA256"]}
    weights = boto3.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")["RoutingConfig"]
    assert weights["AdditionalVersionWeights"] == {"2": 0.1}
    # the canary goes back exactly as an image's does
    assert deploy_cli("rollback", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 1 (100%)\n"
    assert deploy_cli("canary", FUNCTION, "live", "--version", "2", env=aws_env).stdout.endswith("(10%, canary)\n")
    assert deploy_cli("promote", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 2 (100%)\n"
    # after a promotion: release the old publication (or point the alias at version 1 again)
    done = deploy_cli("release-model", FUNCTION, "live", "--model-version-id", v1["MODEL_S3_VERSION_ID"],
                      "--percent", "100", env=aws_env)
    assert done.stdout == f"alias live of {FUNCTION}: version 3 (100%)\n"
    assert variables("3")["MODEL_S3_VERSION_ID"] == v1["MODEL_S3_VERSION_ID"]
    assert variables("3")["MODEL_SHA256"] == v1["MODEL_SHA256"]
    status = deploy_cli("status", FUNCTION, env=aws_env).stdout.splitlines()
    assert "model from S3 (latest)" in status[0]
    assert f"model from S3 (manifest version {v1['MODEL_S3_VERSION_ID']})" in status[2]


def test_release_model_refusals_are_one_line(s3_function, aws_env, api_only_image, s3):
    v2 = s3_function["v2"]["MODEL_S3_VERSION_ID"]
    line = deploy_error("release-model", FUNCTION, "live", "--model-version-id", "no-such-version", env=aws_env)
    assert line == (f"error: {URI}manifest.json (version no-such-version) does not exist: --model-version-id must be a "
                    f"version `publish-model` printed as MODEL_S3_VERSION_ID for {URI}")
    line = deploy_error("release-model", FUNCTION, "live", "--model-version-id", v2, "--percent", "0", env=aws_env)
    assert line == "error: --percent 0: more than 0 and at most 100 (all the traffic)"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + "manifest.json", VersionId=v2)["Body"].read())
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "model.onnx", VersionId=manifest["objects"]["model.onnx"]["version_id"])
    line = deploy_error("release-model", FUNCTION, "live", "--model-version-id", v2, env=aws_env)
    assert line.endswith("which is gone: this publication cannot be served")
    # new code on $LATEST that the alias does not serve yet: a model release must not ship it
    deploy_cli("function", FUNCTION, "--image", register_image("2"), env=aws_env)
    line = deploy_error("release-model", FUNCTION, "live", "--model-version-id", v2, env=aws_env)
    assert "is not the code alias live serves (version 1" in line and "release the code first" in line
    assert [v["Version"] for v in boto3.client("lambda").list_versions_by_function(FunctionName=FUNCTION)["Versions"]] \
        == ["$LATEST", "1", "2"]  # nothing published by the refusals


def test_release_model_refuses_a_function_serving_its_packaged_model(aws_env, role_arn, api_only_image, s3, models):
    published = publish(models["v1"])
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=aws_env)
    line = deploy_error("release-model", FUNCTION, "live", "--model-version-id", published["MODEL_S3_VERSION_ID"],
                        env=aws_env)
    assert line.startswith(f"error: function {FUNCTION} serves the model baked into its code (MODEL_S3_URI is not set)")


@pytest.mark.parametrize("field,value,words", [
    ("name", "churn", "says model name 'churn', but the model.json it names says 'water_quality'"),
    ("version", "9", "says model version '9', but the model.json it names says '1'"),
])
def test_release_model_refuses_a_manifest_whose_name_or_version_is_not_model_json_s(models, s3, field, value, words):
    from lambda_tabular.deploy.aws.model_store import read_publication
    from lambda_tabular.deploy.errors import DeployError

    published = publish(models["v1"])
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + "manifest.json",
                                        VersionId=published["MODEL_S3_VERSION_ID"])["Body"].read())
    assert read_publication(s3, URI, published["MODEL_S3_VERSION_ID"]).name == "water_quality"
    manifest["model"][field] = value
    edited = s3.put_object(Bucket=BUCKET, Key=PREFIX + "manifest.json", Body=json.dumps(manifest).encode())["VersionId"]
    with pytest.raises(DeployError) as caught:
        read_publication(s3, URI, edited)
    message = str(caught.value)
    assert words in message and "\n" not in message and "publish the model again" in message
