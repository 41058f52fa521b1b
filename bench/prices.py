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
