"""AWS Lambda prices used for cost estimates: one place, with the date they were read.

US East (N. Virginia), on-demand, first pricing tier: AWS's published rates as of January 2025
(requests $0.20 per million; duration $0.0000166667 per GB-second on x86_64, $0.0000133334 on
arm64). The pricing page cannot be reached from the build machines; check
https://aws.amazon.com/lambda/pricing/ and update these four values and the date together.
"""

PRICES_DATE = "2025-01"
REGION = "us-east-1"
PER_REQUEST_USD = 0.20 / 1_000_000
PER_GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
BILLING_GRANULARITY_MS = 1.0


def cost_per_million(duration_ms: float, memory_mb: int, architecture: str) -> float:
    """USD for one million requests of ``duration_ms`` each at ``memory_mb``."""
    billed_ms = max(BILLING_GRANULARITY_MS, -(-duration_ms // BILLING_GRANULARITY_MS) * BILLING_GRANULARITY_MS)
    gb_seconds = (memory_mb / 1024) * (billed_ms / 1000)
    return 1_000_000 * (PER_REQUEST_USD + gb_seconds * PER_GB_SECOND_USD[architecture])

# Lambda Managed Instances (us-east-1): the request charge and the management fee as AWS's Lambda
# pricing page states them (read through a transcription of https://aws.amazon.com/lambda/pricing/
# dated 2026-09-20), on top of the EC2 on-demand price of the instances the capacity provider
# runs. EC2 prices: https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1), which
# cannot be reached from the build machines either: check both before relying on them.
MANAGED_PRICES_DATE = "2026-09"
MANAGED_PER_REQUEST_USD = 0.20 / 1_000_000
MANAGED_FEE = 0.15  # of the EC2 on-demand price
# instance type -> (vCPUs, GiB, USD per hour on demand), x86_64 like the benchmark's timings
MANAGED_INSTANCES = {"c7i.large": (2, 4, 0.08925), "m7i.large": (2, 8, 0.1008), "r7i.large": (2, 16, 0.1323)}


def managed_cost_per_million(handler_ms: float, instance: str, utilization: float) -> float:
    """USD for one million requests of ``handler_ms`` of CPU each on ``instance``, busy at
    ``utilization`` of its vCPUs on average."""
    vcpus, _, per_hour = MANAGED_INSTANCES[instance]
    requests_per_hour = vcpus * utilization * 3_600_000 / handler_ms
    return 1_000_000 * (per_hour * (1 + MANAGED_FEE) / requests_per_hour + MANAGED_PER_REQUEST_USD)
