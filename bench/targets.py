"""The product's goals, each held against one run's measurements: the measured value, the goal,
whether it is met, and where it is not, by how much and what the same run says about why."""

from __future__ import annotations

from .stats import ratio

# Init against the usual image: a cold page cache reads every byte from storage, so the usual
# image's larger payload counts for less of its lead than when only CPU is measured.
INIT_SPEEDUP = {"cold": 8.0, "warm": 10.0}
INIT_VS_TUNED_FLOOR = 1.0
FIRST_ANSWER_VS_TUNED_FLOOR = 1.25
PAYLOAD_MIB = 74.0
RSS_SHARE = 0.4
HANDLER_SPEEDUP_SINGLE = 10.0
HANDLER_SPEEDUP_BATCH = 1.0


def target(name: str, value: float | None, goal: float, at_least: bool, unit: str = "x", why: str = "") -> dict:
    """One line of a targets table. ``at_least``: the value must reach ``goal`` (else stay under it)."""
    met = None if value is None else (value >= goal if at_least else value <= goal)
    row = {"target": name, "value": value, "goal": f"{'>=' if at_least else '<='} {goal:g}", "met": met, "unit": unit}
    if met is False:
        row["gap"] = _gap(value, goal, at_least, unit)
        if why:
            row["why"] = why
    return row


def _gap(value: float, goal: float, at_least: bool, unit: str) -> str:
    if unit != "x":
        return f"{abs(value - goal):.1f} {unit} {'short' if at_least else 'over'}"
    if at_least:
        return f"{1 - value / goal:.1%} short of the goal"
    return f"{value / goal - 1:.1%} over the goal"


def _median(section: dict, *keys: str):
    for key in keys:
        section = section.get(key, {}) if isinstance(section, dict) else {}
    return section.get("median") if isinstance(section, dict) else None


def _difference(a: dict, b: dict, *keys: str) -> float | None:
    x, y = _median(a, *keys), _median(b, *keys)
    return None if x is None or y is None else x - y


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g} ms"


def _phases(image: dict) -> dict[str, float | None]:
    """A cold start in its three phases: docker run until the emulator listens, init, and the first request after init."""
    cold, first, init = (_median(image, key) for key in ("cold_start_ms", "first_invoke_ms", "init_ms"))
    return {
        "start": None if cold is None or first is None else cold - first,
        "init": init,
        "request": None if first is None or init is None else first - init,
    }


def _phase_differences(a: dict, b: dict) -> str:
    ours, theirs = _phases(a), _phases(b)
    words = {"start": "docker run until the emulator listened", "init": "init", "request": "the first request after init"}
    return ", ".join(f"{words[k]} {_ms(None if ours[k] is None or theirs[k] is None else ours[k] - theirs[k])}"
                     for k in words)


def image_targets(images: dict[str, dict], page_cache: str) -> list[dict]:
    """The goals of one model's cold starts and requests: ours ("lean") against the usual image
    ("baseline"), the tuned floor ("floor-tuned") and a bare container ("bare")."""
    lean, usual = images["lean"], images["baseline"]
    tuned, bare = images.get("floor-tuned", {}), images.get("bare", {})
    extra_init = _difference(lean, tuned, "init_ms")
    init_why = (f"init {_ms(extra_init)} above the tuned floor's: imports {_ms(_difference(lean, tuned, 'imports_ms'))} "
                f"more, model load {_ms(_median(lean, 'model_load_ms'))}")
    ours_above_bare = _difference(lean, bare, "cold_start_ms")
    floor_above_bare = _difference(tuned, bare, "cold_start_ms")
    first_why = (f"{_ms(ours_above_bare)} above bare against the tuned floor's {_ms(floor_above_bare)}; "
                 f"ours less the tuned floor's: {_phase_differences(lean, tuned)}")
    single_why = (f"handler {_ms(_median(lean, 'handler_ms', 'single'))}, of which the model "
                  f"{_ms(_median(lean, 'predict_ms', 'single'))}")
    batch_why = (f"handler {_ms(_median(lean, 'handler_ms', 'batch'))}, of which the model "
                 f"{_ms(_median(lean, 'predict_ms', 'batch'))}; the usual image's model "
                 f"{_ms(_median(usual, 'predict_ms', 'batch'))}")
    speedup = INIT_SPEEDUP.get(page_cache, INIT_SPEEDUP["cold"])
    return [
        target("init: lean / tuned floor", ratio(_median(lean, "init_ms"), _median(tuned, "init_ms")),
               INIT_VS_TUNED_FLOOR, at_least=False, why=init_why),
        target("first answer above bare: lean / tuned floor", ratio(ours_above_bare, floor_above_bare),
               FIRST_ANSWER_VS_TUNED_FLOOR, at_least=False, why=first_why),
        target(f"init: baseline / lean ({page_cache} page cache)", ratio(_median(usual, "init_ms"), _median(lean, "init_ms")),
               speedup, at_least=True),
        target("payload added over the base (MiB)", lean["added_bytes"] / 2**20, PAYLOAD_MIB, at_least=False, unit="MiB"),
        target("peak process RSS: lean / baseline",
               ratio(_median(lean, "process_peak_rss_bytes"), _median(usual, "process_peak_rss_bytes")),
               RSS_SHARE, at_least=False),
        target("handler, 1 row: baseline / lean",
               ratio(_median(usual, "handler_ms", "single"), _median(lean, "handler_ms", "single")),
               HANDLER_SPEEDUP_SINGLE, at_least=True, why=single_why),
        target("handler, 1,000 rows: baseline / lean",
               ratio(_median(usual, "handler_ms", "batch"), _median(lean, "handler_ms", "batch")),
               HANDLER_SPEEDUP_BATCH, at_least=True, why=batch_why),
    ]
