"""Which machine an ELF file was built for, read from its header: no code of it runs."""

from __future__ import annotations

import subprocess
import tarfile
from collections import Counter
from collections.abc import Iterator

MACHINES = {62: "x86_64", 183: "aarch64"}  # e_machine: EM_X86_64, EM_AARCH64


def machine(header: bytes) -> str | None:
    """None for a file that is not ELF; else its e_machine by name (little-endian ELF only)."""
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    code = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
    return MACHINES.get(code, f"e_machine {code}")


def image_files(image: str) -> Iterator[tuple[str, bytes]]:
    """(path, first 20 bytes) of every regular file in the image, from `docker export`."""
    container = subprocess.run(["docker", "create", image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=export.stdout, mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    yield "/" + member.name.lstrip("./"), archive.extractfile(member).read(20)
        assert export.wait() == 0
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)


def census(files) -> tuple[Counter, dict[str, str]]:
    """How many ELF files per machine, and each ELF file's machine."""
    machines = {path: machine(header) for path, header in files}
    elf = {path: found for path, found in machines.items() if found}
    return Counter(elf.values()), elf
