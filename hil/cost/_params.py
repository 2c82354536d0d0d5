"""Cost-model parameters: few, physical, each with its unit, plausible range and evidence.

Why so few: the calibration data hold 28 independent layer stacks from 5 source families. A model
with more knobs than that memorises them (the first model had ~93 fitted coefficients, 24 fitted to
exactly 0 and 31 touched by one family only: per-family corrections in disguise). Every parameter
here prices one kind of hardware (a LUT per adder bit, a register per operand bit, a cycle per
line-buffer pixel), has a plausible range that a test enforces, and says what determines it:

* ``fitted``: least squares on real csynth figures of at least two source families (``families``
  names which ones can move it), pulled weakly towards its prior;
* ``rule``: a binding threshold or share chosen by ``calibrate`` from per-layer DSP figures (a
  grid search inside each cross-validation fold, never on all data at once);
* ``documented``: fixed from AMD documentation or hls4ml's templates, not fitted;
* ``one_family``: fitted, but only one family of the data holds that hardware; named so a reader
  knows the figure rests on one project (its band says how sure it is).

Structural counts (DSPs per product from the DSP port widths, BRAM blocks from the aspect ratios,
shift-register LUTs of 32 bits each) live in the pricing code and need no parameter.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hil.errors import ConfigError

__all__ = [
    "PARAMS",
    "FORMAT",
    "Param",
    "CostParams",
    "default_params",
    "fitted_names",
    "load_params",
    "save_params",
]

_log = logging.getLogger(__name__)

FORMAT = "hil.cost.params/2"


@dataclass(frozen=True, slots=True)
class Param:
    """One physical parameter.

    Attributes:
        prior: the value before any data (the physics guess, or the documented value).
        unit: what one unit of it is (``LUT per adder bit``).
        low, high: the plausible range; a fit outside it fails the tests, and a fit is clipped to it.
        how: ``fitted``, ``rule``, ``documented`` or ``one_family`` (see the module docstring).
        prices: what hardware it prices.
        source: where the range (and a documented value) comes from.
    """

    prior: float
    unit: str
    low: float
    high: float
    how: str
    prices: str
    source: str


_HLS = "hls4ml 1.x templates (nnet_dense_resource.h, nnet_dense_latency.h, nnet_conv_stream.h)"
_CARRY = "AMD UG474/UG574: one LUT6 + carry-chain bit per adder/comparator bit; csynth may count up to ~3"

#: Every parameter of the model.
PARAMS: dict[str, Param] = {
    # ---- LUTs
    "lut.function": Param(
        300.0, "LUT per HLS function", 20.0, 3000.0, "fitted",
        "control FSM, handshakes and counters of one kernel function (a MAC layer; a streaming "
        "convolution has two: kernel and window control) and the top-level glue",
        "csynth 'Instance' rows of small layers: 100-1,500 LUT (N-TORC, tsopeter, SVHN reports)",
    ),
    "lut.loop": Param(
        50.0, "LUT per pipelined loop", 0.0, 600.0, "fitted",
        "control of a simple II=1 loop: an element-wise layer, pooling, zero padding",
        "csynth rows of activation layers: 100-700 LUT incl. their datapath (tsopeter, SVHN)",
    ),
    "lut.select_bit": Param(
        1.0, "LUT per operand bit routed", 0.05, 8.0, "fitted",
        "multiplexers that route input/window bits to the multiplier lanes (and collect a "
        "streamed input, x log2 beats)",
        "a LUT6 is a 4:1 mux per bit; hls4ml's reuse loop selects 1 of rf words per lane",
    ),
    "lut.fanout_bit": Param(
        0.1, "LUT per output x window bit", 0.0, 1.0, "fitted",
        "a streaming convolution whose outputs each sum several products per step: every output's "
        "tree reads its own slice of the window each step (window fan-out and its selects)",
        "N-TORC Conv1D and tsopeter Conv2D at reuse < n_in; a fraction of a LUT per routed bit",
    ),
    "lut.adder_bit": Param(
        1.0, "LUT per adder/comparator bit", 0.3, 4.0, "fitted",
        "adder trees, accumulators, bias adds, rounding incrementers, saturation and ReLU compares",
        _CARRY,
    ),
    "lut.mult_bit2": Param(
        0.5, "LUT per weight bit x input bit", 0.05, 2.0, "fitted",
        "a variable (ROM-weight) product lane: operand logic, and the whole multiplier when it is "
        "built in fabric",
        "an n x m array multiplier in LUT6 + carry takes ~n*m/2 LUTs (AMD LogiCORE Multiplier, PG108)",
    ),
    "lut.const_mult_bit2": Param(
        0.3, "LUT per weight bit x input bit", 0.0, 2.0, "fitted",
        "a multiply by a constant weight in shift-and-add logic (Latency strategy, reuse 1)",
        "shift-add of a W-bit constant: ~W/3 nonzero CSD digits, each an adder of the input width; "
        "the adder tree already counts one adder per product, so this is what lies beyond it (>= 0)",
    ),
    # ---- flip-flops
    "ff.function": Param(
        300.0, "FF per HLS function", 10.0, 3000.0, "fitted",
        "state, counters and handshake registers of one kernel function and the top level",
        "csynth rows of small layers: 100-1,600 FF",
    ),
    "ff.operand_bit": Param(
        1.0, "FF per operand bit", 0.1, 6.0, "fitted",
        "registers of input/window bits and of each lane's product pipeline (weight + input bits)",
        "one FF stores one bit; 1-4 pipeline stages per operand are typical at 100-250 MHz",
    ),
    "ff.acc_bit": Param(
        1.0, "FF per accumulator bit", 0.0, 6.0, "fitted",
        "pipeline registers of adder trees, accumulators and outputs",
        "one FF per bit per pipeline stage; 0 when the DSP's own P register holds the sum (csynth "
        "then counts no fabric FFs)",
    ),
    "ff.const_tree_bit": Param(
        0.3, "FF per product x accumulator bit", 0.0, 3.0, "fitted",  # 0: a combinational tree
        "pipeline registers of a constant-weight kernel's adder tree (registered every few levels)",
        "SVHN CNNs, the jet MLP and N-TORC reuse 1: 0.1-0.5 FF per tree bit",
    ),
    # ---- DSPs: the narrow-product rule (see _mac's docstring)
    "mult.fabric_max_bits": Param(
        4.0, "bits", 2.0, 5.0, "rule",
        "a product whose narrow operand has at most this many bits is built in LUTs, never a DSP",
        "data: 6 x 6 ROM products take DSPs (tsopeter, 10 layers); hls4ml's 1-2 bit products never; "
        "AMD documents bind_op controls but no width threshold (UG1399): 3-5 bits is an assumption",
    ),
    "mult.narrow_bits": Param(
        9.0, "bits", 6.0, 12.0, "rule",
        "operands at most this wide count as narrow for the constant-multiply and tree shares below",
        "data: 6-bit constants mostly in fabric, 16-bit ones mostly in DSPs (N-TORC, SVHN, jet)",
    ),
    "dsp.tree_fraction": Param(
        1.0, "DSP per product", 0.3, 1.0, "rule",
        "share of a narrow (<= mult.narrow_bits) Resource-strategy product tree bound to DSPs "
        "(the rest in fabric); 1.0 when no data show otherwise",
        "chosen by grid search on per-layer DSP figures of Resource designs with several products "
        "per output (tsopeter: 1/1/3/5/8 DSPs for 1/2/5/9/13 products)",
    ),
    "dsp.const_wide_fraction": Param(
        0.7, "DSP per nonzero constant product", 0.2, 1.0, "fitted",
        "constant multiplies with both operands wider than mult.narrow_bits kept in DSPs",
        "N-TORC reuse-1 Conv1D (355 of 768) and the SVHN 16-bit CNN; HLS builds the rest in shift-add",
    ),
    "dsp.const_one_narrow_fraction": Param(
        0.05, "DSP per nonzero constant product", 0.0, 0.5, "fitted",
        "constant multiplies with one narrow and one wide operand kept in DSPs",
        "SVHN 6-bit CNN (0.1-6 % per layer) and the jet MLP (~7 %)",
    ),
    # ---- cycles
    "latency.kernel_depth": Param(
        4.0, "cycles", 1.0, 20.0, "fitted",
        "pipeline depth of one kernel call (operand fetch, multiply, first adds, output)",
        "DSP48 multiply-add pipelines are 3-4 stages (UG579); csynth adds 1-3 for I/O",
    ),
    "latency.adder_level": Param(
        1.0, "cycles per doubling of fan-in", 1.0, 1.0, "documented",
        "adder-tree depth: cycles per doubling of the products summed per output",
        "one registered adder level per cycle (hls4ml's Resource kernel pipelines its tree at II=1)",
    ),
    "latency.const_adder_level": Param(
        0.5, "cycles per doubling of fan-in", 0.0, 3.0, "fitted",
        "a constant-weight (Latency) kernel's adder tree: cycles per doubling of its inputs",
        "SVHN dense layers (2-7 cycles for 42-96 inputs), the jet MLP (9 cycles, 8 layers), N-TORC rf 1; "
        "0: HLS chains the whole tree into one cycle at a slow clock",
    ),
    "latency.vivado_conv_reuse_share": Param(
        0.5, "cycles per pixel x reuse step", 0.25, 1.0, "one_family",
        "Vivado HLS streaming convolution (Resource): share of pixels x reuse steps in the worst case",
        "N-TORC Conv1D (Vivado HLS 2019.1): 34 cycles per reuse step on 66 padded pixels; Vitis HLS "
        "reports 1.0 (every pixel, tsopeter)",
    ),
    "latency.conv_pixel": Param(
        3.0, "cycles per input pixel", 0.5, 10.0, "fitted",
        "a streaming convolution's per-pixel overhead (shift into the line buffer, window, call)",
        "N-TORC Conv1D (Vivado HLS), tsopeter Conv2D (Vitis HLS: reuse + 5 per pixel)",
    ),
    "latency_min.conv_pixel": Param(
        3.0, "cycles per input pixel", 0.5, 10.0, "fitted",
        "best case of the same (pixels that complete no window skip the kernel)",
        "tsopeter best case: 4 x pixels + 1 exactly; N-TORC Conv1D",
    ),
    "latency.stage": Param(
        1.0, "cycles per dataflow stage", 1.0, 1.0, "documented",
        "what each dataflow stage after the slowest one adds to an io_stream design's latency",
        "one FIFO handshake cycle per stage (UG1399 dataflow); tsopeter: 225,290 = 225,281 + 9 over 9 "
        "stages exactly",
    ),
}  # fmt: skip

#: How each kind of parameter is determined (``Param.how``).
HOW = ("fitted", "rule", "documented", "one_family")


def fitted_names(metric: str | None = None) -> list[str]:
    """Names least squares fits (``fitted`` and ``one_family``), optionally of one metric prefix."""
    return [
        name
        for name, p in PARAMS.items()
        if p.how in ("fitted", "one_family") and (metric is None or name.split(".", 1)[0] == metric)
    ]


#: Layer classes with their own bands (see ``hil.cost._estimate.layer_kind``).
LAYER_CLASSES = ("mac_resource", "mac_constant", "other")
#: Metrics that carry a band.
BAND_METRICS = ("lut", "ff", "dsp", "bram_18k", "latency")


def _pair(band: dict[str, float]) -> tuple[float, float]:
    return (float(band["lo"]), float(band["hi"]))


#: A band when nothing better is known: [0.5, 2] x the estimate (a factor of two either way).
DEFAULT_BAND = {"lo": 0.5, "hi": 2.0, "n": 0}
#: Units of slack either way of a count's band (DSP, BRAM) when its parameters record none.
DEFAULT_SLACK = 1
#: Synthesis/csynth ratio when no pair exists for a tool and strategy: the csynth figure itself
#: (which over-states fabric), with a band down to the lowest ratio any pair shows.
DEFAULT_SYNTH = {
    "lut": {"ratio": 1.0, "lo": 0.4, "hi": 1.1, "pairs": 0},
    "ff": {"ratio": 1.0, "lo": 0.3, "hi": 1.1, "pairs": 0},
    "dsp": {"ratio": 1.0, "lo": 0.85, "hi": 1.1, "pairs": 0},
    "bram_18k": {"ratio": 1.0, "lo": 0.6, "hi": 1.1, "pairs": 0},
}


@dataclass(frozen=True)
class CostParams:
    """A complete parameter set.

    Attributes:
        coefficients: every name of PARAMS with its value.
        fitted_on: the data files (or labels) the parameters were fitted on.
        domain: the layer kinds (``domain_key``: class, strategy, io_type, precision range) the
            fitting data contained; a layer outside it is ``extrapolated``.
        notes: free-form provenance of the fit (rows, method, cross-validation figures).
        bands: ``metric`` -> ``{"lo", "hi", "n"}`` (and ``"slack"`` for dsp and bram_18k): the 80 %
            prediction interval as factors of the estimate (true / estimated: the shortest interval
            holding 80 % of the leave-one-family-out residuals and 1), a count's slack in whole units
            each way (``_bands``); ``layer:<kind>/<metric>`` the same for one layer of that kind.
        synth: ``<hls tool>/<strategy>`` -> metric -> ``{"ratio", "lo", "hi", "pairs"}``: Vivado
            synthesis / csynth of the same kernel, from the pairs in the data (``pairs`` of them).
    """

    coefficients: dict[str, float]
    fitted_on: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)
    bands: dict[str, dict[str, float]] = field(default_factory=dict)
    synth: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    #: layer class -> metric -> (lo, hi), derived from ``bands`` (not stored).
    class_bands: dict[str, dict[str, tuple[float, float]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        missing = sorted(set(PARAMS) - set(self.coefficients))
        if missing:
            raise ConfigError(f"cost-model params lack parameter(s) {missing}")
        unknown = sorted(set(self.coefficients) - set(PARAMS))
        if unknown:
            raise ConfigError(f"cost-model params: unknown parameter(s) {unknown}")
        for name, value in self.coefficients.items():
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigError(f"cost-model parameter {name}={value!r} must be a finite number >= 0")
            spec = PARAMS[name]
            if not spec.low - 1e-9 <= value <= spec.high + 1e-9:
                raise ConfigError(
                    f"cost-model parameter {name}={value:g} outside its documented range "
                    f"{spec.low:g}..{spec.high:g} {spec.unit} ({spec.source})"
                )
        for key, band in self.bands.items():
            if not 0 < band.get("lo", 0) <= 1 <= band.get("hi", 0):
                raise ConfigError(f"cost-model band {key}: need 0 < lo <= 1 <= hi, got {band}")
            slack = band.get("slack", DEFAULT_SLACK)
            if (
                isinstance(slack, bool)
                or not isinstance(slack, int | float)
                or not math.isfinite(slack)
                or slack < 0
                or slack != int(slack)
            ):
                raise ConfigError(f"cost-model band {key}: slack must be a whole number >= 0, got {slack!r}")
        object.__setattr__(self, "_domain_set", frozenset(self.domain))
        object.__setattr__(self, "_memo", {})  # per-layer estimates (hil.cost._estimate)
        # Per layer class and metric: (lo, hi) factors, falling back to the design band (the
        # estimate reads these for every layer, so they are resolved once here).
        classes = {}
        for kind in LAYER_CLASSES:
            classes[kind] = {
                metric: _pair(self.bands.get(f"layer:{kind}/{metric}") or self.band(metric))
                for metric in BAND_METRICS
            }
        object.__setattr__(self, "class_bands", classes)

    def in_domain(self, key: str) -> bool:
        """True when the calibration data held layers of this ``domain_key``."""
        return key in self._domain_set  # type: ignore[attr-defined]

    def rule_variants(self) -> tuple[CostParams, ...]:
        """The parameter set with each narrow-product rule value moved to either end of the range the
        calibration data cannot tell apart (``rule:<name>`` bands); empty when every rule is pinned.

        Why: a fold without, say, any narrow Resource product tree keeps the rule at its prior (all
        such products in DSPs) although the data say nothing about it; its DSP estimate is then a
        guess, and the DSP band must span what every rule value the data allow would predict
        (``_estimate.estimate`` takes the union of their bands). Built once per parameter set.
        """
        cached = getattr(self, "_rule_variants", None)
        if cached is not None:
            return cached
        plain = {k: v for k, v in self.bands.items() if not k.startswith("rule:")}
        variants = []
        for key, band in sorted(self.bands.items()):
            if not key.startswith("rule:") or band["lo"] == band["hi"] == 1:
                continue
            name = key.removeprefix("rule:")
            for factor in {band["lo"], band["hi"]} - {1}:
                value = min(max(self.coefficients[name] * factor, PARAMS[name].low), PARAMS[name].high)
                coeffs = dict(self.coefficients, **{name: round(value, 2)})  # back on the grid
                variants.append(CostParams(coeffs, self.fitted_on, self.domain, {}, plain, self.synth))
        object.__setattr__(self, "_rule_variants", tuple(variants))
        return tuple(variants)

    def band(self, metric: str) -> dict[str, float]:
        """The 80 % band of a whole-design ``metric`` (factors of the estimate)."""
        return self.bands.get(metric, DEFAULT_BAND)

    def slack(self, key: str) -> float:
        """Whole units either way on top of a count's band (``key``: ``dsp``, ``layer:<class>/dsp``):
        chosen from the residuals by ``calibrate`` (``_bands.count_slack``); a parameter file from
        before issue 21c has none and gets the one unit it always had."""
        band = self.bands.get(key)
        return float(band.get("slack", DEFAULT_SLACK)) if band is not None else float(DEFAULT_SLACK)

    def synth_ratio(self, tool: str, strategy: str, metric: str) -> dict[str, float]:
        """Synthesis / csynth ratio of ``metric`` for a tool (vivado, vitis) and strategy."""
        return self.synth.get(f"{tool}/{strategy}", {}).get(metric, DEFAULT_SYNTH[metric])

    @classmethod
    def priors(cls) -> CostParams:
        """Parameters before any calibration (the physics guesses and documented values)."""
        return cls(coefficients={k: p.prior for k, p in PARAMS.items()}, notes={"origin": "priors"})

    def to_dict(self) -> dict[str, Any]:
        """JSON form, the layout of params files."""
        return {
            "format": FORMAT,
            "coefficients": dict(sorted(self.coefficients.items())),
            "bands": self.bands,
            "synth": self.synth,
            "fitted_on": list(self.fitted_on),
            "domain": list(self.domain),
            "notes": self.notes,
        }


def _from_dict(raw: Any, where: str) -> CostParams:
    if isinstance(raw, dict) and raw.get("format") == "hil.cost.params/1":
        # The first model's coefficients price other pieces: they cannot be mapped onto this model.
        _log.warning("%s: a params/1 file of the first cost model; its coefficients are ignored", where)
        base = default_params()
        notes = dict(base.notes)
        notes["ignored_params_1"] = sorted(str(k) for k in (raw.get("coefficients") or {}))
        return CostParams(
            dict(base.coefficients), tuple(str(s) for s in raw.get("fitted_on", [])), base.domain,
            notes, dict(base.bands), dict(base.synth),
        )  # fmt: skip
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ConfigError(f'{where}: not a hil cost-model params file (expected "format": "{FORMAT}")')
    coeffs = raw.get("coefficients")
    if not isinstance(coeffs, dict):
        raise ConfigError(f'{where}: "coefficients" must be an object of name: number')
    unknown = sorted(set(coeffs) - set(PARAMS))
    if unknown:
        raise ConfigError(f"{where}: unknown parameter(s) {unknown}")
    values = {k: p.prior for k, p in PARAMS.items()}
    missing = sorted(set(values) - set(coeffs))
    notes = dict(raw.get("notes", {})) if isinstance(raw.get("notes", {}), dict) else {}
    if missing:
        _log.warning("%s: %d parameter(s) missing, using their priors (recalibrate)", where, len(missing))
        notes["priors_for_missing"] = missing
    values.update({str(k): v for k, v in coeffs.items()})
    try:
        return CostParams(
            coefficients=values,
            fitted_on=tuple(str(s) for s in raw.get("fitted_on", [])),
            domain=tuple(str(s) for s in raw.get("domain", [])),
            notes=notes,
            bands={str(k): dict(v) for k, v in (raw.get("bands") or {}).items()},
            synth={
                str(k): {str(m): dict(r) for m, r in v.items()} for k, v in (raw.get("synth") or {}).items()
            },
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_params(path: str | os.PathLike[str]) -> CostParams:
    """Read a params file written by ``save_params`` / ``hil costmodel calibrate``."""
    source = Path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such params file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read params file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: not JSON ({exc.msg})") from None
    return _from_dict(raw, str(source))


def save_params(params: CostParams, path: str | os.PathLike[str]) -> None:
    """Write a params file (sorted keys, so diffs between calibrations stay readable)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(params.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


_DEFAULT: CostParams | None = None


def default_params() -> CostParams:
    """The parameters shipped with hil (fitted on ../shared/costdata), cached after the first read."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("hil.cost").joinpath("default_params.json").read_text(encoding="utf-8")
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ConfigError(f"hil/cost/default_params.json is not a {FORMAT} file: recalibrate")
        _DEFAULT = _from_dict(raw, "hil/cost/default_params.json")
    return _DEFAULT
