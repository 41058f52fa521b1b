"""Credentials for emulators go only to loopback: the check runs on the parsed address."""

import pytest

from lambda_tabular.deploy.aws.session import is_loopback


@pytest.mark.parametrize("target", [
    "127.0.0.1:5000", "127.8.9.10", "http://127.0.0.1:9000", "localhost:5000", "http://localhost",
    "[::1]:5000", "http://[::1]:9000/", "::1",
])
def test_loopback_addresses(target):
    assert is_loopback(target)


@pytest.mark.parametrize("target", [
    "127.attacker.example", "127.attacker.example:5000", "http://127.0.0.1.nip.io:9000",
    "https://127.0.0.1@attacker.example/", "localhost.attacker.example", "10.0.0.1:5000",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com", "", "http://", "[::1", "0.0.0.0:5000",
])
def test_anything_else_is_not(target):
    assert not is_loopback(target)
