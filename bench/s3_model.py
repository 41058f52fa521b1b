"""What serving a model from S3 (MODEL_S3_URI) costs a cold start, and what it costs the baked
model (nothing, it should be): the measurements behind runtime/s3.py's choice of client.

python -m lambda_tabular.bench.s3_model --image IMAGE [--before IMAGE] [--repeat 10] [--out build/bench/s3_model]

IMAGE is a lean image of the water-quality example (make image, or the tests' example image).
A moto server stands in for S3 on the Docker bridge's gateway address, so that containers reach
it; a bucket that keeps versions gets the same model, converted here and published with
`lambda-tabular publish-model`. At Lambda's 1,769 MB shape (`--cpus=1 --memory=1769m`):

1. clients: in the image, REPEAT fresh processes per client, interleaved: importing, making and
   fetching the model (manifest + two objects) with runtime/s3.py, and with boto3 (mounted
   read-only from this machine's packages: the image carries none);
2. cold starts: `docker run` to the first answer, and the init line's timings, REPEAT rounds of
   each variant, interleaved: IMAGE serving its baked model, IMAGE serving the published model
   (an empty /tmp each time: the fetch is in every run), and with --before, another image (the
   same model built from an earlier commit) serving its baked model.

Every docker command runs under `flock /tmp/docker.lock` when this is started that way (the
Makefile's convention); the page cache stays warm (each variant runs once untimed first), so
the runs measure CPU, not this machine's disk.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..convert import locations
from ..deploy.local import sandbox
from ..deploy.local.network import host_address
from .stats import summary

PROBE = Path(__file__).with_name("s3_client_probe.py")
MEMORY_MB = sandbox.VCPU_MB
BUCKET = "lambda-tabular-bench"
PREFIX = "lambda-tabular/models/water-quality/"
REQUEST = json.dumps({"instances": [[7.1, 2.4, 380.0, 18.5]]}).encode()
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def start_moto(host: str, folder: Path) -> tuple[subprocess.Popen, str]:
    from ..deploy.local.container import free_port

    port = free_port()
    log = open(folder / "moto.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"moto did not start on {url}")


def publish(endpoint: str, work: Path) -> dict:
    """The water-quality example converted here and published to a versioned bucket."""
    import boto3

    from ..convert.build import Request, build
    from ..convert.examples import write_examples

    write_examples(work / "examples")
    build(Request(model=work / "examples" / "water_quality.json", out=work / "model", name="water_quality",
                  version="s3", sample=work / "examples" / "water_quality_sample.csv"), log=lambda *a: None)
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    done = subprocess.run([sys.executable, "-m", f"{locations.PACKAGE}.deploy", "publish-model", str(work / "model"), f"s3://{BUCKET}/{PREFIX}"],
                          capture_output=True, text=True, env=env, check=True)
    return dict(line.split("=", 1) for line in done.stdout.split())


def client_costs(image: str, env: dict, repeat: int) -> list[dict]:
    import site

    packages = next(p for p in site.getsitepackages() if p.endswith("site-packages"))
    args = ["docker", "run", "--rm", *sandbox.docker_args(MEMORY_MB, env=env), "--entrypoint", "python3",
            "-v", f"{PROBE}:/opt/probe.py:ro", "-v", f"{packages}:/opt/host-site:ro"]
    done = subprocess.run([*args, image, "/opt/probe.py", "drive", str(repeat)], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"client probe failed: {done.stderr[-500:]}")
    return json.loads(done.stdout.splitlines()[-1])


def cold_starts(variants: dict[str, tuple[str, dict]], repeat: int) -> dict[str, list[dict]]:
    from .measure import cold_run

    runs = {label: [] for label in variants}
    for round_ in range(repeat + 1):  # round 0 warms the page cache and is not counted
        for label, (image, env) in variants.items():
            run = cold_run(image, {"single": REQUEST}, {}, memory_mb=MEMORY_MB, cpus=1, env=env)
            record = {"cold_start_ms": run.cold_start_ms, **run.init}
            if round_:
                runs[label].append(record)
            print(f"[{round_}/{repeat}] {label:<14} cold start {run.cold_start_ms:7.1f} ms, init "
                  f"{run.init.get('init_ms') or 0:6.1f} ms, model load {run.init.get('model_load_ms') or 0:6.1f} ms",
                  file=sys.stderr)
    return runs


def table(clients: list[dict], runs: dict[str, list[dict]]) -> str:
    lines = ["| client | import (ms) | make the client (ms) | fetch manifest + 2 objects (ms) | total (ms) | modules loaded |",
             "|---|---|---|---|---|---|"]
    for name in ("stdlib", "boto3"):
        mine = [c for c in clients if c["client"] == name]
        cells = [f"{summary([c[k] for c in mine])['median']:.1f}" for k in ("import_ms", "client_ms", "fetch_ms", "total_ms")]
        label = "runtime/s3.py (standard library)" if name == "stdlib" else "boto3"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {mine[0]['modules']} |")
    lines += ["", "| variant | cold start (ms) | init (ms) | imports (ms) | model load (ms) |", "|---|---|---|---|---|"]
    for label, records in runs.items():
        cells = []
        for key in ("cold_start_ms", "init_ms", "imports_ms", "model_load_ms"):
            values = [r[key] for r in records if r.get(key) is not None]
            s = summary(values)
            cells.append(f"{s['median']:.1f} ({s['p10']:.0f}-{s['p90']:.0f})" if values else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_tabular.bench.s3_model", description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, help="a lean image of the water-quality example")
    parser.add_argument("--before", help="the same image built from an earlier commit: its baked-model cold starts join")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("build/bench/s3_model"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="s3-bench-") as folder:
        proc, endpoint = start_moto(host_address(), Path(folder))
        try:
            published = publish(endpoint, Path(folder))
            s3_env = {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint, "MODEL_S3_URI": published["MODEL_S3_URI"]}
            clients = client_costs(args.image, s3_env, args.repeat)
            variants = {"baked": (args.image, {}), "s3": (args.image, s3_env)}
            if args.before:
                variants = {"baked, before": (args.before, {}), **variants}
            runs = cold_starts(variants, args.repeat)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    results = {"image": args.image, "before": args.before, "repeat": args.repeat, "memory_mb": MEMORY_MB,
               "clients": clients, "cold_starts": runs}
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "results.md").write_text(table(clients, runs))
    print(table(clients, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
