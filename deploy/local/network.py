"""The address on this machine that containers on Docker's default bridge reach it by."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import socket
import struct

from ..errors import DeployError
from ..shell import run

SIOCGIFADDR = 0x8915  # linux/sockios.h: an interface's IPv4 address


def host_address() -> str:
    """The bridge network's gateway, a local address that only this machine and its containers
    route to. Engines differ in what they report: the IPAM config's Gateway when it is there
    (Docker 20.10 leaves it out), else the address of the bridge's interface, else the subnet's
    first host. The first candidate this machine holds is returned; none is one line."""
    network = json.loads(run(["docker", "network", "inspect", "bridge", "--format", "{{json .}}"], quiet=True))
    candidates = [c.get("Gateway", "") for c in (network.get("IPAM") or {}).get("Config") or []]
    interface = (network.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    candidates.append(interface_address(interface))
    for config in (network.get("IPAM") or {}).get("Config") or []:
        try:
            candidates.append(str(next(ipaddress.ip_network(config.get("Subnet", ""), strict=False).hosts())))
        except (ValueError, StopIteration):
            continue
    for address in candidates:
        if address and _held_here(address):
            return address
    raise DeployError(
        f"no address of Docker's bridge network is on this machine (tried {', '.join(c for c in candidates if c) or 'none'}); "
        "containers cannot reach a server here: check `docker network inspect bridge`"
    )


def interface_address(name: str) -> str:
    """The IPv4 address of network interface ``name``, or "" when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return ""
    return socket.inet_ntoa(answer[20:24])


def _held_here(address: str) -> bool:
    """Whether a server on this machine can listen on ``address``."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False
