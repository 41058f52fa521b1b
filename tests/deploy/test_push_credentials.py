"""How `push` handles ECR's token, seen through a stand-in `docker` on PATH that records each
call: the password goes through stdin only, never argv or output, and lives in a throwaway
Docker config. The real push is in test_rollout.py."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import ACCOUNT, REGION, deploy_cli

PASSWORD = f"{ACCOUNT}-auth-token"  # what moto's ECR token decodes to (AWS:<password>)
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_token_goes_through_stdin_into_a_throwaway_config(fake_docker):
    env, log = fake_docker
    done = deploy_cli("push", "lambda-tabular/demo:7", "--registry", "127.0.0.1:5999", env=env)
    assert done.stdout == f"{ECR_HOST}/lambda-tabular-demo@sha256:{'ab' * 32}\n"
    calls = _calls(log)
    assert [c["args"][0] for c in calls] == ["info", "image", "login", "tag", "push", "image"]
    _, _, login, tag, push, _ = calls
    assert login["args"] == ["login", "--username", "AWS", "--password-stdin", "127.0.0.1:5999"]
    assert login["stdin"] == PASSWORD
    assert tag["args"] == ["tag", "lambda-tabular/demo:7", "127.0.0.1:5999/lambda-tabular-demo:7"]
    assert push["args"] == ["push", "--quiet", "127.0.0.1:5999/lambda-tabular-demo:7"]
    assert login["docker_config"] == push["docker_config"] and login["config_exists"]
    assert not Path(login["docker_config"]).exists()  # removed with the token in it
    assert all(PASSWORD not in " ".join(c["args"]) for c in calls)
    assert PASSWORD not in done.stdout + done.stderr


def test_without_override_it_pushes_to_ecr_and_checks_ecr_has_the_digest(fake_docker):
    env, log = fake_docker
    done = deploy_cli("push", "lambda-tabular/demo:7", env=env, check=False)
    assert [c["args"][-1] for c in _calls(log) if c["args"][0] in ("login", "push")] == [
        ECR_HOST, f"{ECR_HOST}/lambda-tabular-demo:7"]
    # The stand-in docker pushed nothing to moto's ECR, and push says so in one line.
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        f"error: find sha256:{'ab' * 32} in ECR repository lambda-tabular-demo after the push: ImageNotFoundException: ")


def test_a_registry_override_must_be_on_loopback(fake_docker):
    env, log = fake_docker
    done = deploy_cli("push", "lambda-tabular/demo:7", "--registry", "registry.example.com", env=env, check=False)
    assert done.returncode == 1
    assert done.stderr == ("error: --registry registry.example.com: only a loopback registry (127.0.0.1:PORT) "
                           "may stand in for ECR; it receives ECR's login token\n")
    assert not log.exists()
