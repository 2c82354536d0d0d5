"""The embedded default job until `hil search` lands: train, export, convert, C-simulate.

Trains a 4-bit brevitas CNN on scikit-learn's bundled digits (seconds on a laptop CPU), exports
it to QONNX, converts it with hls4ml for the chosen board and checks the fixed-point design by
bit-accurate C simulation on the real test images. It lives in ``search`` (not ``hil``) because
it trains a network; it uses hil only through its public API.

Run: ``python -m search.demo [--board zcu104] [--out hil-demo] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from hil.convert import ConversionOptions, convert
from hil.errors import HilError
from hil.inventory import load_inventory
from search.datasets import load_dataset
from search.qat import QatCnnSpec, build_qat_cnn, export_qonnx
from search.training import TrainRecipe, evaluate, train_classifier

_log = logging.getLogger(__name__)


def run_demo(board_name: str, out: Path, epochs: int = 3, inventory: Path | None = None) -> dict:
    """Train, export, convert and C-simulate; returns the conversion summary plus accuracies."""
    board = load_inventory(inventory).board(board_name)
    data = load_dataset("digits", seed=0)
    spec = QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, conv_channels=(8, 16))
    model = build_qat_cnn(spec)
    train_classifier(model, data.x_train, data.y_train, TrainRecipe(epochs=epochs, batch_size=16, lr=1e-2))
    val_accuracy = evaluate(model, data.x_val, data.y_val)
    qonnx_path = export_qonnx(model, spec.input_shape, out / "digits_w4a4.onnx")
    result = convert(
        qonnx_path,
        board,
        ConversionOptions(io_type="io_stream", strategy="Latency"),
        output_dir=out / "hls4ml_prj",
        csim_n=len(data.x_test),
        csim_data=data.x_test,
        csim_labels=data.y_test,
    )
    summary = result.summary()
    summary["val_accuracy_torch"] = val_accuracy
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="zcu104")
    parser.add_argument("--out", type=Path, default=Path("hil-demo"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--inventory", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        summary = run_demo(args.board, args.out, args.epochs, args.inventory)
    except HilError as exc:
        print(f"hil: error: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True, default=str))
        return 0
    csim = summary["csim"]
    print(
        f"trained a 4-bit CNN on digits: validation accuracy {summary['val_accuracy_torch']:.3f} (torch, QAT)"
    )
    print(f"QONNX: {summary['model']}")
    print(
        f"hls4ml project for {summary['board']} ({summary['part']} @ {summary['clock_mhz']:g} MHz): "
        f"{summary['project_dir']}"
    )
    print(
        f"C simulation of {csim['n_inputs']} test images: "
        f"bit-identical outputs {csim['bit_identical_fraction']:.4f}, "
        f"argmax agreement {csim['argmax_agreement']:.4f}, test accuracy {csim['hls_accuracy']:.3f} "
        f"(fixed point) vs {csim['reference_accuracy']:.3f} (qonnx)"
    )
    print(
        f"compile {csim['compile_seconds']:.1f} s{' (cache hit)' if csim['cache_hit'] else ''}, "
        f"run {csim['run_seconds']:.2f} s"
    )
    print(f"summary: {args.out / 'summary.json'}")
    return 0 if np.isclose(csim["bit_identical_fraction"], 1.0) else 1


if __name__ == "__main__":
    sys.exit(main())
