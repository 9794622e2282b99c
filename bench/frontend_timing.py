"""The measuring half of bench/bench_frontend.py: what one widget change costs in the browser, from the input event
to the last DOM change of the view it redraws, and the percentiles, table and JSON row of repeated changes.

Pure Python except OBSERVER_JS / SETTLED_JS, the page-side recorder that bench_frontend.py installs with Playwright.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

GOAL_P95_MS = 150.0
QUIET_MS = 500
MEASURED = ("milliseconds from the input event (event.timeStamp of the first pointerdown or keydown after the "
            "recorder is armed, on the page's performance.now() clock) to the last DOM mutation inside the view's "
            "area (CSS selectors per row; plotly's hover and modebar layers excluded), once Streamlit's script "
            f"state is no longer 'running' and that area has been quiet for {QUIET_MS} ms; Streamlit's whole path "
            "is inside: the websocket message, the script rerun on the server, the deltas and React/plotly drawing")

# Installed once per change: records the input event's time and the last mutation inside `selectors` in
# window.__uqlensBench (argument: the selectors as one CSS selector list).
OBSERVER_JS = """(selectors) => {
  const state = {t0: null, last: null, mutations: 0, sawRunning: false, idleAt: null, runStart: null, runEnd: null,
                 runs: 0};
  const ignored = (node) => node && node.closest && node.closest('.hoverlayer, .modebar-container, .modebar');
  const inArea = (node) => {
    const element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element && (element.closest(selectors) || (element.querySelector && element.querySelector(selectors)));
  };
  const app = document.querySelector('[data-testid="stApp"]');
  const running = () => app && app.getAttribute('data-test-script-state') === 'running';
  const onInput = (event) => { if (state.t0 === null) state.t0 = event.timeStamp; };
  window.addEventListener('pointerdown', onInput, true);
  window.addEventListener('keydown', onInput, true);
  const areaObserver = new MutationObserver((records) => {
    if (state.t0 === null) return;
    for (const record of records) {
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (ignored(element)) continue;
      const added = Array.from(record.addedNodes).some(inArea);
      if ((element && element.closest(selectors)) || added) { state.last = performance.now(); state.mutations++; }
    }
  });
  areaObserver.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const stateObserver = new MutationObserver(() => {
    const now = performance.now();
    if (running()) {
      if (!state.sawRunning || state.idleAt !== null) state.runs++;
      state.sawRunning = true; state.idleAt = null; if (state.runStart === null) state.runStart = now;
    }
    else if (state.idleAt === null) { state.idleAt = now; state.runEnd = now; }
  });
  if (app) stateObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  state.stop = () => { areaObserver.disconnect(); stateObserver.disconnect();
    window.removeEventListener('pointerdown', onInput, true); window.removeEventListener('keydown', onInput, true); };
  state.running = running;
  window.__uqlensBench = state;
}"""

# True once the change is over: the script ran (or 2 s passed without a run) and is idle, the area changed after
# the event, and neither changed for QUIET_MS.
SETTLED_JS = """(quiet) => {
  const s = window.__uqlensBench;
  if (!s || s.t0 === null || s.last === null || s.running()) return false;
  const now = performance.now();
  if (!s.sawRunning && now - s.t0 < 2000) return false;
  return now - s.last >= quiet && (s.idleAt === null || now - s.idleAt >= quiet);
}"""

READ_JS = "() => { const s = window.__uqlensBench; s.stop(); " \
          "return {t0: s.t0, last: s.last, mutations: s.mutations, sawRunning: s.sawRunning, runStart: s.runStart, " \
          "runEnd: s.runEnd, runs: s.runs}; }"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 <= q <= 100) of values by linear interpolation between the closest ranks (numpy's
    default, 'linear'): rank (n - 1) * q / 100 of the sorted values."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must lie in [0, 100], got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def phases(reading: dict) -> dict:
    """Where a change's time went, ms after the input event: the script's first run started (run_start_ms) and its
    last run ended (run_end_ms), from the app's script state; script runs seen; mutations counted in the area."""
    t0 = reading.get("t0")

    def after(name: str) -> Optional[float]:
        value = reading.get(name)
        return None if value is None or t0 is None else round(float(value) - float(t0), 1)
    return {"run_start_ms": after("runStart"), "run_end_ms": after("runEnd"), "runs": reading.get("runs"),
            "mutations": reading.get("mutations")}


def latency_ms(reading: dict) -> Optional[float]:
    """Milliseconds from the input event to the area's last mutation, from READ_JS's reading; None when either is
    missing (the event was not seen, or nothing in the area changed)."""
    if reading.get("t0") is None or reading.get("last") is None:
        return None
    return float(reading["last"]) - float(reading["t0"])


@dataclass
class Row:
    """One interaction measured N times. needs_model: whether each change runs the model (then the 150 ms goal does
    not apply); model_call: what the change asks of the backend, in a few words. area: the CSS selectors whose last
    mutation ends the measurement. samples_ms: one latency per change."""

    interaction: str
    page: str
    needs_model: bool
    model_call: str
    area: str
    samples_ms: list[float] = field(default_factory=list)
    note: str = ""
    phases: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """p50, p95, n, and whether p95 meets GOAL_P95_MS (None for a view that needs the model: no goal)."""
        if not self.samples_ms:
            return {"p50_ms": None, "p95_ms": None, "n": 0, "meets_goal": None}
        p95 = percentile(self.samples_ms, 95)
        return {"p50_ms": percentile(self.samples_ms, 50), "p95_ms": p95, "n": len(self.samples_ms),
                "meets_goal": None if self.needs_model else p95 <= GOAL_P95_MS}

    def as_json(self) -> dict:
        return {"interaction": self.interaction, "page": self.page, "needs_model": self.needs_model,
                "model_call": self.model_call, "area": self.area,
                "note": self.note, **self.summary(), "samples_ms": [round(s, 1) for s in self.samples_ms],
                "phases": self.phases}


def fmt_ms(value: Optional[float]) -> str:
    """Milliseconds as a whole number for the table, '-' when missing."""
    return "-" if value is None else f"{value:.0f}"


def table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width table: interaction, model call, p50, p95, n, goal (p95 <= 150 ms for a view that
    needs no model call; '-' for one that does), with numbered notes."""
    head = f"{'interaction':<34} {'model call?':<28} {'p50 ms':>7} {'p95 ms':>7} {'n':>3}  goal"
    lines, notes = [head, "-" * len(head)], []
    for row in rows:
        s = row.summary()
        goal = "-" if s["meets_goal"] is None else ("met" if s["meets_goal"] else "MISSED")
        mark = ""
        if row.note:
            notes.append(row.note)
            mark = f" [{len(notes)}]"
        lines.append(f"{row.interaction[:34]:<34} {row.model_call[:28]:<28} {fmt_ms(s['p50_ms']):>7} "
                     f"{fmt_ms(s['p95_ms']):>7} {s['n']:>3}  {goal}{mark}")
    return "\n".join(lines + [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)])
