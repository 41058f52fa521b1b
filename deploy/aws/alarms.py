"""The alarms the SAM templates (deploy/aws/template*.yaml) set on a function, named after it,
as `status` shows them: one line each, and why when one is in ALARM."""

from __future__ import annotations

from .session import call

# AlarmName: ${FunctionName}-SUFFIX in both templates (tests/deploy/test_template.py checks it).
SUFFIXES = ("error-rate", "validation-failures", "p99-duration", "throttles", "init-failures")


def alarm_lines(cloudwatch, function: str) -> list[str]:
    """A line per alarm of ``function`` that exists, in SUFFIXES order; none for a function
    deployed without the templates. An account that does not let the caller read alarms gets one
    line that says so, and the rest of `status` stands."""
    names = [f"{function}-{suffix}" for suffix in SUFFIXES]
    found = call(f"read the alarms of {function}", cloudwatch.describe_alarms, AlarmNames=names,
                 AlarmTypes=["MetricAlarm"], absent=("AccessDenied", "AccessDeniedException"))
    if found is None:
        return [f"alarms of {function}: not shown (cloudwatch:DescribeAlarms is not allowed for this caller)"]
    alarms = {alarm["AlarmName"]: alarm for alarm in found["MetricAlarms"]}
    return [_line(alarms[name]) for name in names if name in alarms]


def _line(alarm: dict) -> str:
    state = alarm["StateValue"]
    since = alarm["StateUpdatedTimestamp"].strftime("%Y-%m-%dT%H:%M:%S")
    line = f"alarm {alarm['AlarmName']}: {state} since {since}"
    if state == "ALARM":
        line += f" ({alarm.get('StateReason', '').strip()[:200]})"
    return line
