"""Every pin against the newest release the package index serves: `python -m tests.pins` lists
them, `--write` moves each pin that is behind to the newest, except those held.

A pin is held by a trailing comment that starts with `held:` and says why, e.g.
`protobuf==6.33.6  # held: skl2onnx 1.20 fails on HistGradientBoosting under protobuf 7`.
`make bump` runs `--write`, reinstalls, and runs what proves the new set (the tests and the
coverage table); the benchmark is then re-run by hand (`make bench`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("requirements-runtime.txt", "requirements-build.txt", "requirements-catboost.txt", "requirements-dev.txt",
         "deploy/package/lambda-client.txt", "bench/baseline/requirements.txt")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)(?P<extras>\[[^\]]*\])?==(?P<version>\S+)(?P<rest>\s*(#\s*(?P<comment>.*))?)$")


@dataclass
class Pin:
    file: str
    line: int
    name: str
    version: str
    held: str | None
    newest: str | None = None


def pins(root: Path = ROOT) -> list[Pin]:
    found = []
    for name in FILES:
        for number, text in enumerate((root / name).read_text().splitlines()):
            match = PIN.match(text.strip())
            if match:
                comment = match["comment"] or ""
                held = comment.removeprefix("held:").strip() if comment.startswith("held:") else None
                found.append(Pin(name, number, match["name"], match["version"], held))
    return found


def newest(name: str) -> str | None:
    """The newest release with a wheel for this Python, as `pip index versions` reports it."""
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", name, "--only-binary=:all:",
                           "--disable-pip-version-check"], capture_output=True, text=True)
    match = re.match(r"\S+ \((\S+)\)", done.stdout)
    return match[1] if match else None


def write(found: list[Pin], root: Path = ROOT) -> list[Pin]:
    moved = [p for p in found if p.newest and p.newest != p.version and not p.held]
    for file in {p.file for p in moved}:
        path = root / file
        lines = path.read_text().splitlines(keepends=True)
        for pin in (p for p in moved if p.file == file):
            lines[pin.line] = lines[pin.line].replace(f"=={pin.version}", f"=={pin.newest}", 1)
        path.write_text("".join(lines))
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pins", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="move every pin that is behind and not held")
    args = parser.parse_args(argv)
    found = pins()
    for pin in found:
        pin.newest = newest(pin.name)
        state = ("current" if pin.newest == pin.version else f"held at {pin.version}: {pin.held}" if pin.held
                 else f"behind: {pin.newest}" if pin.newest else "not on the index")
        print(f"{pin.file}: {pin.name}=={pin.version}  {state}")
    if args.write:
        moved = write(found)
        print(f"moved {len(moved)} pins" + "".join(f"\n  {p.name} {p.version} -> {p.newest}" for p in moved))
    return 0


if __name__ == "__main__":
    sys.exit(main())
