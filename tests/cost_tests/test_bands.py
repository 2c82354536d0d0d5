"""Error bands that inform: design-level width against the leave-one-family-out error, and a DSP band
that spans the narrow-product rule values a fold's data cannot tell apart."""

from __future__ import annotations

import pytest

from hil.cost import CostParams, calibrate, cross_validate, estimate, predict_row, read_cost_data
from hil.cost._estimate import count_band
from hil.cost._rules import RULE_GRID
from tests._shared import require_shared

DATA = ("costdata/ntorc_dense.csv", "costdata/ntorc_conv1d.csv", "costdata/lowbit/hls4ml_lowbit_calib.jsonl")


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return read_cost_data([require_shared(p) for p in DATA])


def test_a_rule_no_row_exercises_spans_its_grid_and_widens_the_dsp_band(rows) -> None:  # type: ignore[no-untyped-def]
    """Without the tsopeter designs no row has a narrow Resource product tree: every tree fraction
    fits the rest equally well, the fold keeps the prior (all in DSPs) and over-predicts tsopeter's
    DSPs (true / estimate 0.63-0.84); its DSP band must reach down to what 0.3 would predict."""
    without = calibrate([r for r in rows if r.family != "tsopeter_conv2d"], bands=False)
    value = without.coefficients["dsp.tree_fraction"]
    band = without.bands["rule:dsp.tree_fraction"]
    grid = RULE_GRID["dsp.tree_fraction"]
    assert (round(band["lo"] * value, 2), round(band["hi"] * value, 2)) == (min(grid), max(grid))
    assert without.rule_variants()
    held = [r for r in rows if r.family == "tsopeter_conv2d" and r.truth.get("dsp")]
    assert len(held) > 30
    over = inside = 0
    for row in held:
        pred = predict_row(row, without)
        low, high = pred["bands"]["dsp"]
        over += pred["dsp"] > 1.15 * row.truth["dsp"]
        inside += low <= row.truth["dsp"] <= high
    assert over > len(held) / 2  # the point estimate is off ...
    assert inside >= 0.8 * len(held)  # ... and the band says so
    # the full data pin the tree fraction (no variant moves it); the width thresholds they do not pin
    # (no 3-5-bit or 7-12-bit product in the data decides them) keep theirs
    full = calibrate(rows, bands=False)
    assert full.bands["rule:dsp.tree_fraction"]["lo"] == full.bands["rule:dsp.tree_fraction"]["hi"] == 1
    moved = {n for v in full.rule_variants() for n in RULE_GRID if v.coefficients[n] != full.coefficients[n]}
    assert "dsp.tree_fraction" not in moved
    layers = held[0].layers
    est = estimate(layers, params=full, include_io=held[0].include_io, target=held[0].target)
    design = full.band("dsp")  # a 6-bit tree: neither threshold variant moves its DSPs
    total = est.totals["dsp"]
    assert est.bands["dsp"] == count_band(total, total * design["lo"], total * design["hi"])


@pytest.mark.slow
def test_band_width_and_coverage_leave_one_family_out(rows) -> None:  # type: ignore[no-untyped-def]
    """Everything data-chosen (bands included) is chosen inside each fold; a band's half-width is
    (upper - lower) / 2 as a fraction of the estimate, its median over the held-out designs.

    The issue asks for a median half-width of at most twice the metric's leave-one-family-out MAPE.
    As measured (README, "Validation"): DSP 0.22 against 2 x 19 % (met, asserted below); LUT 0.390
    against 2 x 19.4 % = 0.388, FF 0.58 against 0.47, latency 0.125 against 0.108 and BRAM 0.03
    against 0.006 (a block of slack on ~30) are not met, so no test pretends they are; the width
    asserted for them guards the design-level bands against sliding back to the summed layer bands
    (LUT 0.67, FF 0.83)."""
    pairs = []
    for folder in ("reports/vivado2020.1_hls4ml_test", "reports/vivado2020.1_xczu9eg"):
        from hil.farm.reports import synth_pair_from_reports

        pairs.append(synth_pair_from_reports(require_shared(folder)))
    report = cross_validate(rows, by="family", synth_pairs=pairs)
    m = report.metrics
    assert m["dsp"].median_half_width is not None and m["dsp"].mape is not None
    assert m["dsp"].median_half_width <= 2 * m["dsp"].mape
    assert m["dsp"].coverage is not None and m["dsp"].coverage >= 0.8  # was 49 %
    for metric, widest in (("lut", 0.45), ("ff", 0.65)):
        width = m[metric].median_half_width
        assert width is not None and width <= widest, (metric, width)
    for metric in ("lut", "ff", "dsp", "bram_18k", "latency"):
        coverage = m[metric].coverage
        assert coverage is not None and coverage >= 0.7, (metric, coverage)


def test_the_dsp_band_is_the_union_of_the_rule_variants_bands() -> None:
    """The shipped parameters leave two width thresholds undetermined: an estimate's DSP band must be
    exactly the union of the bands that full estimates at each rule variant give (the fast path
    reprices only the DSPs of the layers the rule decides)."""
    import random

    from hil.cost import default_params
    from search.space import default_space

    params = default_params()
    variants = params.rule_variants()
    assert len(variants) == 4  # fabric_max_bits 2 and 5, narrow_bits 6 and 12
    plain = {k: v for k, v in params.bands.items() if not k.startswith("rule:")}
    pinned = CostParams(params.coefficients, params.fitted_on, params.domain, {}, plain, params.synth)
    space = default_space("cifar10", 200.0)
    rng = random.Random(7)
    widened = 0
    for _ in range(60):
        cand = space.sample(lambda _name, choices: rng.choice(list(choices)), (3, 32, 32))
        specs = cand.layer_specs((3, 32, 32), 10)
        for level in ("hls", "synth"):
            est = estimate(specs, clock_mhz=cand.clock_mhz, params=params, level=level)
            base = estimate(specs, params=pinned, level=level).bands["dsp"]
            edges = [base] + [estimate(specs, params=v, level=level).bands["dsp"] for v in variants]
            assert est.bands["dsp"] == (min(lo for lo, _ in edges), max(hi for _, hi in edges))
            widened += est.bands["dsp"] != base
    assert widened > 20  # the search's 2-8-bit candidates cross the undetermined thresholds
