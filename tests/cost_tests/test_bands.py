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
    """Everything data-chosen (bands included) is chosen inside each fold. A band's half-width is
    (upper - lower) / 2 / estimate (for an asymmetric band, the mean distance of its edges from the
    estimate, as a fraction of it), its median over the held-out designs (``MetricReport``).

    The issue's target, on every metric: median half-width <= 2 x the metric's leave-one-family-out
    MAPE, with the bands still covering >= 70 % of the held-out designs (nominal 80 %). Before issue
    21c (10th-90th percentile bands, one unit of slack on every count) LUT was at 2.01 x, FF 2.5 x,
    BRAM 10.7 x, latency 2.3 x; the N-TORC Conv1D LUT band covered 8 % of its family."""
    pairs = []
    for folder in ("reports/vivado2020.1_hls4ml_test", "reports/vivado2020.1_xczu9eg"):
        from hil.farm.reports import synth_pair_from_reports

        pairs.append(synth_pair_from_reports(require_shared(folder)))
    report = cross_validate(rows, by="family", synth_pairs=pairs)
    m = report.metrics
    for metric in ("lut", "ff", "dsp", "bram_18k", "latency"):
        width, mape, coverage = m[metric].median_half_width, m[metric].mape, m[metric].coverage
        assert width is not None and mape is not None and coverage is not None
        assert width <= 2 * mape, (metric, width, mape)
        assert coverage >= 0.7, (metric, coverage)
    assert m["dsp"].coverage is not None and m["dsp"].coverage >= 0.9  # was 49 % before the rule bands
    # the Conv1D LUT band no longer lies beside its family (8 % before issue 21c)
    conv1d = report.by_family["ntorc_conv1d"]["lut"].coverage
    assert conv1d is not None and conv1d >= 0.4, conv1d
    # the held-out test: >= 70 % of a set's design x metric pairs inside their bands; each
    # family of 20 designs or more, held out, is such a set (ntorc_conv1d: 66 % before issue 21c)
    inside: dict[str, list[bool]] = {}
    for design in report.designs:
        for metric, (low, high) in design["band_80"].items():
            true, pred = design["truth"][metric], design["predicted"][metric]
            if true is not None:
                ok = low - 1e-9 <= true <= high + 1e-9 or (true <= 0 and pred <= 2)
                inside.setdefault(design["family"], []).append(ok)
    large = {fam: sum(v) / len(v) for fam, v in inside.items() if len(v) >= 20 * 5}
    assert set(large) == {"ntorc_conv1d", "ntorc_dense", "tsopeter_conv2d"}
    assert all(share >= 0.7 for share in large.values()), large


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


def test_the_shortest_interval_holds_the_weight_contains_the_estimate_and_is_shortest() -> None:
    """Against a brute force over every pair of residuals: the interval holds >= 80 % of the weight,
    contains 1 (the estimate) and no interval that does both is shorter; on skewed residuals it is
    narrower than the 10th-90th percentile band it replaced."""
    import random

    from hil.cost._bands import shortest_interval, weighted_quantile

    rng = random.Random(3)
    narrower = 0
    for _ in range(200):
        n = rng.randint(4, 30)
        values = [rng.lognormvariate(rng.choice((-0.3, 0.0, 0.2)), rng.choice((0.05, 0.3))) for _ in range(n)]
        weights = [rng.choice((1.0, 0.5, 0.2)) for _ in range(n)]
        lo, hi = shortest_interval(values, weights)
        need = 0.8 * sum(weights) - 1e-9

        def mass(a: float, b: float) -> float:
            return sum(w for v, w in zip(values, weights, strict=True) if a <= v <= b)  # noqa: B023

        assert lo <= 1 <= hi
        assert mass(lo, hi) >= need
        for a in values:
            for b in values:
                a1, b1 = min(a, 1.0), max(b, 1.0)
                if mass(a1, b1) >= need:
                    assert b1 - a1 >= hi - lo - 1e-12
        low_q = min(weighted_quantile(values, weights, 0.1), 1.0)
        high_q = max(weighted_quantile(values, weights, 0.9), 1.0)
        narrower += hi - lo < high_q - low_q - 1e-9
    assert narrower > 50


def test_a_count_gets_the_slack_its_residuals_need() -> None:
    """BRAM priced exactly on most designs needs no slack; off by a block on a third of them, one."""
    from hil.cost._bands import count_slack

    exact = [(30.0, 30.0, 1.0)] * 9 + [(31.0, 30.0, 1.0)]
    assert count_slack(exact, 1.0, 1.0) == 0
    third_off = [(30.0, 30.0, 1.0)] * 6 + [(31.0, 30.0, 1.0)] * 3
    assert count_slack(third_off, 1.0, 1.0) == 1
    # a true zero predicted as 2 needs 2 units below (the ratio band cannot say it)
    zeros = [(0.0, 2.0, 1.0)] * 5
    assert count_slack(zeros, 0.8, 1.2) == 2


def test_a_params_file_without_slack_keeps_one_unit_and_a_bad_slack_is_refused() -> None:
    from hil.cost import default_params
    from hil.errors import ConfigError

    shipped = default_params()
    bands = {k: {kk: vv for kk, vv in v.items() if kk != "slack"} for k, v in shipped.bands.items()}
    old = CostParams(shipped.coefficients, shipped.fitted_on, shipped.domain, {}, bands, shipped.synth)
    assert old.slack("bram_18k") == 1.0
    assert shipped.slack("bram_18k") == float(shipped.bands["bram_18k"]["slack"])
    specs = default_space_specs()
    est_old = estimate(specs, params=old)
    total = est_old.totals["bram_18k"]
    band = old.band("bram_18k")
    assert est_old.bands["bram_18k"] == (max(0.0, total * band["lo"] - 1.0), total * band["hi"] + 1.0)
    with pytest.raises(ConfigError, match="slack"):
        CostParams(shipped.coefficients, (), (), {}, {"bram_18k": {"lo": 1.0, "hi": 1.0, "slack": -1}}, {})
    with pytest.raises(ConfigError, match="slack"):
        CostParams(shipped.coefficients, (), (), {}, {"dsp": {"lo": 1.0, "hi": 1.0, "slack": 0.5}}, {})


def default_space_specs():  # type: ignore[no-untyped-def]
    """One CIFAR-10 candidate of the search's space (seeded)."""
    import random

    from search.space import default_space

    rng = random.Random(11)
    cand = default_space("cifar10", 200.0).sample(lambda _n, c: rng.choice(list(c)), (3, 32, 32))
    return cand.layer_specs((3, 32, 32), 10)
