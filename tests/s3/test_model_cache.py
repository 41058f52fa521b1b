"""The model cache's rules between processes (runtime/model_cache.py), each with a real second
process: what another process holds or is writing is never deleted; what a dead one left is."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from lambda_tabular.runtime.model_cache import PARTIAL, ModelCache

from .support import ROOT

HOLDER = """
import sys, time
from lambda_tabular.runtime.model_cache import ModelCache
cache = ModelCache(sys.argv[1]); cache.prepare()
cache.put(sys.argv[2], {"model.json": b"{}"}); cache.hold(sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


@contextlib.contextmanager
def held_elsewhere(root: str, ident: str):
    """Another process that put ``ident`` in the cache at ``root`` and holds it, until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, root, ident], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield
    finally:
        proc.kill()
        proc.wait()


def test_a_folder_another_process_holds_is_not_evicted_until_it_lets_go(tmp_path):
    root = str(tmp_path / "models")
    with held_elsewhere(root, "served-elsewhere"):
        cache = ModelCache(root)
        cache.prepare()
        cache.put("mine", {"model.json": b"{}"})
        cache.put("nobody", {"model.json": b"{}"})
        cache.keep_only(["mine"])
        cache.evict(["mine"])
        assert sorted(cache.names()) == ["mine", "served-elsewhere"]
    cache.evict(["mine"])  # its lock went with its process
    assert cache.names() == ["mine"]


def test_a_folder_put_by_another_process_first_is_used_not_replaced(tmp_path):
    root = str(tmp_path / "models")
    with held_elsewhere(root, "same"):
        cache = ModelCache(root)
        cache.prepare()
        cache.put("same", {"model.json": b"mine"})  # the name is taken: no error, the first folder stays
        assert (tmp_path / "models" / "same" / "model.json").read_bytes() == b"{}"
        assert not [n for n in os.listdir(root) if n.startswith(PARTIAL)]


def test_partial_folders_are_cleared_only_when_their_writer_is_gone(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        (root / f"{PARTIAL}abc-{writer.pid}").mkdir()
        (root / f"{PARTIAL}abc-{gone.pid}").mkdir()
        ModelCache(str(root)).prepare()
        assert sorted(os.listdir(root)) == [f"{PARTIAL}abc-{writer.pid}"]
    finally:
        writer.kill()
        writer.wait()
    time.sleep(0.1)
    ModelCache(str(root)).prepare()
    assert os.listdir(root) == []
