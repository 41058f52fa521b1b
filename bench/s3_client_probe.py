"""How much reading a model from S3 costs a cold start, by client: the measuring half of
bench/s3_model.py. Runs inside the lean image (numpy, onnxruntime and runtime/ at /var/task);
boto3, which the image does not carry, comes from a read-only mount of the host's packages.

python3 s3_client_probe.py drive REPEAT   # REPEAT fresh processes per client, interleaved; one JSON list
python3 s3_client_probe.py child CLIENT   # one process: "stdlib" (runtime/s3.py) or "boto3"; one JSON line

Each child first imports what every init imports anyway (numpy, onnxruntime, runtime.config),
then times, in order: importing the client, making it, and fetching the published model
(manifest.json, then the two objects it names, by version) from MODEL_S3_URI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

HOST_PACKAGES = "/opt/host-site"


def child(client: str) -> dict:
    import numpy  # noqa: F401  what every init has imported before the model is read
    import onnxruntime  # noqa: F401

    from runtime.config import aws_environment
    from runtime.manifest import Location, Manifest

    location = Location.parse(os.environ["MODEL_S3_URI"])
    started = time.perf_counter()
    if client == "boto3":
        sys.path.append(HOST_PACKAGES)
        import boto3

        imported = time.perf_counter()
        s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
        made = time.perf_counter()

        def get(key, version_id=None):
            extra = {"VersionId": version_id} if version_id else {}
            return s3.get_object(Bucket=location.bucket, Key=key, **extra)["Body"].read()
    else:
        from runtime import s3 as stdlib_s3

        imported = time.perf_counter()
        reader = stdlib_s3.S3Client(aws_environment())
        deadline = stdlib_s3.Deadline(8.0)
        made = time.perf_counter()

        def get(key, version_id=None):
            return reader.get(location.bucket, key, version_id, deadline, 2**30).body
    manifest = Manifest.from_json(get(location.key("manifest.json")))
    size = sum(len(get(location.key(ref.name), ref.version_id)) for ref in manifest.objects)
    fetched = time.perf_counter()
    return {"client": client, "import_ms": (imported - started) * 1e3, "client_ms": (made - imported) * 1e3,
            "fetch_ms": (fetched - made) * 1e3, "total_ms": (fetched - started) * 1e3, "bytes": size,
            "modules": len(sys.modules)}


def drive(repeat: int) -> list[dict]:
    results = []
    for _ in range(repeat):
        for client in ("stdlib", "boto3"):
            done = subprocess.run([sys.executable, __file__, "child", client], capture_output=True, text=True,
                                  timeout=120, env={**os.environ, "PYTHONPATH": "/var/task"})
            if done.returncode != 0:
                raise SystemExit(f"{client}: {done.stderr.strip().splitlines()[-1:]}")
            results.append(json.loads(done.stdout.splitlines()[-1]))
    return results


if __name__ == "__main__":
    if sys.argv[1] == "child":
        print(json.dumps(child(sys.argv[2])))
    else:
        print(json.dumps(drive(int(sys.argv[2]))))
