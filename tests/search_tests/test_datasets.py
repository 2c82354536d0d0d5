"""Tests for search.datasets: fixed splits, the JPEG pack's decode-once cache, the standard pickles."""

from __future__ import annotations

import io
import logging
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hil.errors import InputError
from search.datasets import Dataset, dataset_names, load_dataset

# ----------------------------------------------------------------------------------------------- digits


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def test_dataset_names() -> None:
    assert dataset_names() == ("digits", "cifar10")


def test_digits_shapes_dtypes_and_sizes() -> None:
    ds = load_dataset("digits")
    n = 1797
    n_test = round(0.2 * n)
    n_val = round(0.1 * (n - n_test))
    assert len(ds.y_test) == n_test
    assert len(ds.y_val) == n_val
    assert len(ds.y_train) == n - n_test - n_val
    assert ds.input_shape == (1, 8, 8)
    assert ds.n_classes == 10
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and x.ndim == 4 and x.shape[1:] == (1, 8, 8)
        assert y.dtype == np.int64 and len(y) == len(x)
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert set(np.unique(y)) == set(range(10))
    assert ds.x_train.max() == 1.0  # pixels / 16 reaches 1


def test_digits_deterministic_and_seeded() -> None:
    a, b = load_dataset("digits", seed=3), load_dataset("digits", seed=3)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = load_dataset("digits", seed=4)
    assert _rows(c.x_test) != _rows(a.x_test)
    assert len(c.y_test) == len(a.y_test)


def test_digits_splits_are_disjoint_and_cover_everything() -> None:
    ds = load_dataset("digits", seed=1)
    train, val, test = _rows(ds.x_train), _rows(ds.x_val), _rows(ds.x_test)
    assert not train & val and not train & test and not val & test
    # digits has a handful of duplicate images, so compare against the distinct rows of the whole set.
    from sklearn.datasets import load_digits

    whole = _rows((load_digits().images.astype(np.float32) / 16.0)[:, None])
    assert train | val | test == whole


def test_digits_stratified() -> None:
    ds = load_dataset("digits")
    full = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])) / (
        len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    )
    for y in (ds.y_train, ds.y_test):
        assert np.abs(np.bincount(y, minlength=10) / len(y) - full).max() < 0.01


def test_subset_is_stratified_and_leaves_val_test_alone() -> None:
    full, sub = load_dataset("digits", seed=2), load_dataset("digits", seed=2, subset=200)
    assert len(sub.y_train) == 200
    assert np.all(np.bincount(sub.y_train, minlength=10) >= 19)
    assert _rows(sub.x_train) <= _rows(full.x_train)
    np.testing.assert_array_equal(sub.x_val, full.x_val)
    np.testing.assert_array_equal(sub.x_test, full.x_test)


def test_dataset_is_frozen() -> None:
    ds = load_dataset("digits")
    with pytest.raises(AttributeError):
        ds.name = "x"  # type: ignore[misc]


# ----------------------------------------------------------------------------------------- bad inputs


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(InputError, match=r"mnist.*digits, cifar10"):
        load_dataset("mnist")


def test_empty_folder_names_folder_and_both_layouts(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_dataset("cifar10", data_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message
    assert "cifar-10-batches-py" in message and "cifar10_train_jpeg.npz" in message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"val_fraction": 1.0}, "val_fraction"), ({"subset": 0}, "subset"), ({"subset": 10**6}, "subset")],
)
def test_bad_arguments(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        load_dataset("digits", **kwargs)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- cifar-10-batches-py format


def _write_batches(folder: Path, protocol: int = 2) -> dict[str, np.ndarray]:
    """A tiny cifar-10-batches-py folder in exactly the standard format; returns what was written."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written: dict[str, np.ndarray] = {}
    per_batch, n_test = 6, 8
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, fname in enumerate(names):
        n = n_test if fname == "test_batch" else per_batch
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in (np.arange(n) + k) % 10]
        batch = {
            b"batch_label": f"batch {k}".encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [f"img_{k}_{i}.png".encode() for i in range(n)],
        }
        with (folder / fname).open("wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        written[fname] = data
        written[fname + "_labels"] = np.asarray(labels)
    meta = {
        b"num_cases_per_batch": per_batch,
        b"num_vis": 3072,
        b"label_names": [
            n.encode()
            for n in (
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            )
        ],
    }
    with (folder / "batches.meta").open("wb") as f:
        pickle.dump(meta, f, protocol=protocol)
    return written


@pytest.mark.parametrize(("point_at_parent", "protocol"), [(False, 2), (True, 2), (False, 4), (False, 5)])
def test_standard_batches_folder(tmp_path: Path, point_at_parent: bool, protocol: int) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    written = _write_batches(folder, protocol=protocol)
    ds = load_dataset("cifar10", data_dir=tmp_path if point_at_parent else folder, val_fraction=0.2)
    assert ds.classes[0] == "airplane" and ds.classes[9] == "truck" and ds.n_classes == 10
    assert ds.input_shape == (3, 32, 32)
    assert len(ds.y_train) + len(ds.y_val) == 30 and len(ds.y_val) == 6
    assert len(ds.y_test) == 8
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # Test images keep their identity: each row of the file is R plane, G plane, B plane (CHW).
    expected = written["test_batch"].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    order = [int(np.flatnonzero((expected == img).all(axis=(1, 2, 3)))[0]) for img in ds.x_test]
    assert sorted(order) == list(range(8))
    np.testing.assert_array_equal(ds.y_test, written["test_batch_labels"][order])
    raw = written["test_batch"][order[0]]
    np.testing.assert_array_equal(ds.x_test[0, 0].ravel(), raw[:1024] / np.float32(255))  # red plane
    np.testing.assert_array_equal(ds.x_test[0, 2].ravel(), raw[2048:] / np.float32(255))  # blue plane


def test_batches_missing_file_and_bad_contents(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(InputError, match="data_batch_3"):
        load_dataset("cifar10", data_dir=folder)
    with (folder / "data_batch_3").open("wb") as f:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(InputError, match="uint8"):
        load_dataset("cifar10", data_dir=folder)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_batches_refuse_non_numpy_pickles(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    with (folder / "data_batch_1").open("wb") as f:
        pickle.dump({b"data": _Evil(), b"labels": []}, f)
    with pytest.raises(InputError, match="refusing"):
        load_dataset("cifar10", data_dir=folder)


# ------------------------------------------------------------------------------- shared CIFAR-10 pack


def _shared_cifar_dir() -> Path:
    shared = os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared"
    return Path(shared) / "datasets" / "cifar10"


@pytest.fixture(scope="session")
def pack_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Dataset, float]]:
    """Decode the shared pack once per session into a private cache; yields (cache dir, dataset, s)."""
    folder = _shared_cifar_dir()
    if not (folder / "cifar10_train_jpeg.npz").is_file():
        message = f"shared CIFAR-10 pack not found in {folder} (set HIL_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    cache = tmp_path_factory.mktemp("hil_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HIL_CACHE_DIR", str(cache))
        start = time.perf_counter()
        ds = load_dataset("cifar10", data_dir=folder)
        yield cache, ds, time.perf_counter() - start


@pytest.mark.slow
def test_pack_shapes_labels_and_range(pack_cache: tuple[Path, Dataset, float]) -> None:
    _, ds, _ = pack_cache
    assert len(ds.y_train) + len(ds.y_val) == 50_000 and len(ds.y_val) == 5_000
    assert ds.x_test.shape == (10_000, 3, 32, 32) and ds.input_shape == (3, 32, 32)
    assert ds.x_train.dtype == np.float32 and ds.x_train.flags.c_contiguous
    assert ds.classes[:2] == ("airplane", "automobile") and ds.n_classes == 10
    assert np.all(np.bincount(np.concatenate([ds.y_train, ds.y_val])) == 5_000)
    assert np.all(np.bincount(ds.y_val) == 500)
    assert np.all(np.bincount(ds.y_test) == 1_000)
    assert 4 <= len(np.unique(ds.y_test[:20]))  # the class-sorted pack comes back shuffled
    sample = ds.x_test[:200]
    assert sample.min() == 0.0 and sample.max() == 1.0
    np.testing.assert_allclose(sample * 255, np.round(sample * 255), atol=1e-3)  # uint8 / 255


@pytest.mark.slow
def test_pack_second_load_is_a_cache_hit(
    pack_cache: tuple[Path, Dataset, float], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache, first, first_s = pack_cache
    assert len(list((cache / "cifar10").glob("*.npy"))) == 2
    assert not list((cache / "cifar10").glob("*.tmp"))
    monkeypatch.setenv("HIL_CACHE_DIR", str(cache))
    caplog.set_level(logging.INFO, logger="search.datasets")
    start = time.perf_counter()
    again = load_dataset("cifar10", data_dir=_shared_cifar_dir())
    hit_s = time.perf_counter() - start
    print(f"first load (decode) {first_s:.1f} s, cache-hit load {hit_s:.2f} s")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cache hit" in m for m in messages) == 2
    assert not any("decoded" in m for m in messages)
    assert hit_s < 10
    np.testing.assert_array_equal(again.x_val, first.x_val)
    np.testing.assert_array_equal(again.y_test, first.y_test)


@pytest.mark.slow
def test_pack_matches_direct_pillow_decode(pack_cache: tuple[Path, Dataset, float]) -> None:
    _, ds, _ = pack_cache
    with np.load(_shared_cifar_dir() / "cifar10_test_jpeg.npz") as npz:
        jpeg, offsets, labels = npz["jpeg"], npz["offsets"], npz["labels"]
    flat = ds.x_test.reshape(len(ds.x_test), -1)
    for i in (0, 4321, 9999):
        with Image.open(io.BytesIO(jpeg[offsets[i] : offsets[i + 1]].tobytes())) as im:
            direct = np.asarray(im.convert("RGB")).transpose(2, 0, 1).astype(np.float32) / 255.0
        hits = np.flatnonzero((flat == direct.ravel()).all(axis=1))
        assert len(hits) >= 1
        assert ds.y_test[hits[0]] == labels[i]


@pytest.mark.slow
def test_pack_seeds_and_subset(
    pack_cache: tuple[Path, Dataset, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, first, _ = pack_cache
    monkeypatch.setenv("HIL_CACHE_DIR", str(cache))
    sub = load_dataset("cifar10", data_dir=_shared_cifar_dir(), subset=1_000)
    assert len(sub.y_train) == 1_000 and np.all(np.bincount(sub.y_train) == 100)
    np.testing.assert_array_equal(sub.y_val, first.y_val)
    np.testing.assert_array_equal(sub.y_test, first.y_test)
    other = load_dataset("cifar10", data_dir=_shared_cifar_dir(), seed=1, subset=1_000)
    assert not np.array_equal(other.x_val[:50], first.x_val[:50])
    np.testing.assert_array_equal(other.x_test[:50], first.x_test[:50])  # test order fixed for all seeds


# ------------------------------------------------------------------ a tiny synthetic pack (fast tests)


def _write_pack(folder: Path, n_per_class: int = 2) -> None:
    """Both JPEG pack files, in the shared pack's format, with a few random 32x32 images per class."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    classes = np.asarray(
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    )
    for part in ("train", "test"):
        blobs = []
        for _ in range(10 * n_per_class):
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, "JPEG", quality=75)
            blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
        offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
        np.savez(
            folder / f"cifar10_{part}_jpeg.npz",
            jpeg=np.concatenate(blobs),
            offsets=offsets,
            labels=np.repeat(np.arange(10), n_per_class).astype(np.int64),
            classes=classes,
        )


def test_tiny_pack_decodes_caches_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _write_pack(tmp_path / "data")
    cache = tmp_path / "cache"
    monkeypatch.setenv("HIL_CACHE_DIR", str(cache))
    caplog.set_level(logging.INFO, logger="search.datasets")
    first = load_dataset("cifar10", data_dir=tmp_path / "data", val_fraction=0.5)
    assert len(first.y_train) == 10 and len(first.y_val) == 10 and len(first.y_test) == 20
    assert np.all(np.bincount(first.y_val) == 1)
    files = sorted((cache / "cifar10").glob("*.npy"))
    assert len(files) == 2 and not list((cache / "cifar10").glob("*.tmp"))
    assert sum("decoded" in r.getMessage() for r in caplog.records) == 2

    caplog.clear()
    again = load_dataset("cifar10", data_dir=tmp_path / "data", val_fraction=0.5)
    assert sum("cache hit" in r.getMessage() for r in caplog.records) == 2
    np.testing.assert_array_equal(again.x_test, first.x_test)

    files[0].write_bytes(b"garbage")  # a torn or foreign cache file is rebuilt, not trusted
    caplog.clear()
    rebuilt = load_dataset("cifar10", data_dir=tmp_path / "data", val_fraction=0.5)
    assert any("ignoring unusable cache" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(rebuilt.x_train, first.x_train)
    assert np.load(files[0]).shape[1:] == (32, 32, 3)


def test_tiny_pack_with_unwritable_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_pack(tmp_path / "data")
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    monkeypatch.setenv("HIL_CACHE_DIR", str(blocker))
    ds = load_dataset("cifar10", data_dir=tmp_path / "data", val_fraction=0.5)
    assert ds.x_train.shape == (10, 3, 32, 32)


def test_tiny_pack_with_corrupt_jpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_pack(tmp_path / "data")
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "data" / "cifar10_test_jpeg.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["jpeg"][arrays["offsets"][3] : arrays["offsets"][3] + 20] = 0
    np.savez(path, **arrays)
    with pytest.raises(InputError, match="image 3"):
        load_dataset("cifar10", data_dir=tmp_path / "data")
