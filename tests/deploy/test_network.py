"""The address containers reach this machine by, whatever the engine reports of its bridge."""

import json

import pytest

from lambda_tabular.deploy.errors import DeployError
from lambda_tabular.deploy.local import network

# `docker network inspect bridge` as Docker 20.10 (Debian's docker.io) prints it: no Gateway.
ENGINE_20_10 = {"Name": "bridge", "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]},
                "Options": {"com.docker.network.bridge.name": "docker0"}}
WITH_GATEWAY = {"Name": "bridge", "IPAM": {"Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]}, "Options": {}}


def _engine(monkeypatch, inspect: dict, interfaces: dict, held: set):
    monkeypatch.setattr(network, "run", lambda args, quiet: json.dumps(inspect))
    monkeypatch.setattr(network, "interface_address", lambda name: interfaces.get(name, ""))
    monkeypatch.setattr(network, "_held_here", lambda address: address in held)


def test_the_gateway_field_when_the_engine_reports_it(monkeypatch):
    _engine(monkeypatch, WITH_GATEWAY, {"docker0": "172.18.0.1"}, {"172.18.0.1"})
    assert network.host_address() == "172.18.0.1"


def test_the_bridge_interface_when_the_gateway_field_is_missing(monkeypatch):
    _engine(monkeypatch, {**ENGINE_20_10, "Options": {"com.docker.network.bridge.name": "br-custom"}},
            {"br-custom": "10.9.0.1"}, {"10.9.0.1"})
    assert network.host_address() == "10.9.0.1"


def test_the_subnets_first_host_when_the_interface_is_unreadable(monkeypatch):
    _engine(monkeypatch, ENGINE_20_10, {}, {"172.17.0.1"})
    assert network.host_address() == "172.17.0.1"


def test_no_address_held_here_is_one_line(monkeypatch):
    _engine(monkeypatch, {"Name": "bridge", "IPAM": {"Config": [{"Gateway": "10.1.0.1"}]}}, {}, set())
    with pytest.raises(DeployError) as err:
        network.host_address()
    assert "10.1.0.1" in str(err.value) and "\n" not in str(err.value)


def test_an_interface_that_does_not_exist_has_no_address():
    assert network.interface_address("no-such-if0") == ""


@pytest.mark.docker
def test_this_engines_bridge_address_is_held_here(docker_engine):
    address = network.host_address()
    assert network._held_here(address)
