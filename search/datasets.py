"""Image-classification datasets for the co-search, with fixed seeded splits.

Why fixed splits: the search ranks many candidates by validation accuracy, which means something only
when every candidate, run and worker sees the same images; splits are stratified and a pure function
of ``seed``, ``val_fraction`` and ``subset``. Why a decode-once cache: the shared CIFAR-10 copy is a
pack of 60,000 JPEGs. The first load decodes it with Pillow and writes a uint8 ``.npy`` atomically
under ``$HIL_CACHE_DIR`` (default ``~/.cache/hil``), keyed by the pack's size and a hash of its first
MiB; later loads memory-map it. The standard ``cifar-10-batches-py`` pickles are read too, by exact
file name, through an unpickler that resolves numpy's array classes and nothing else.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import InputError

__all__ = ["Dataset", "dataset_names", "dataset_shape", "load_dataset"]

_logger = logging.getLogger(__name__)

_NAMES = ("digits", "cifar10")
_BATCHES_DIR = "cifar-10-batches-py"
_BATCH_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_Cifar = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]
_PACK_FILES = {"train": "cifar10_train_jpeg.npz", "test": "cifar10_test_jpeg.npz"}
# One fixed test-set order for every seed: a prefix (x_test[:500], a quick C-sim) stays class-balanced.
_TEST_ORDER_SEED = 20190101


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset with fixed splits. Images are float32 NCHW in [0, 1]; labels are int64.

    Attributes:
        name: the dataset's name, as given to :func:`load_dataset`.
        x_train, y_train: training images (N, C, H, W) and labels (N,).
        x_val, y_val: validation split (the search's accuracy signal).
        x_test, y_test: test split (reported once, for the final design).
        classes: the class names; label ``i`` means ``classes[i]``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The shape of one image, (C, H, W)."""
        c, h, w = self.x_train.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def n_classes(self) -> int:
        """The number of classes."""
        return len(self.classes)


def dataset_names() -> tuple[str, ...]:
    """Return the names :func:`load_dataset` accepts."""
    return _NAMES


def dataset_shape(name: str) -> tuple[tuple[int, int, int], int]:
    """(input shape (C, H, W), number of classes) of ``name`` without loading it."""
    if name not in _NAMES:
        raise InputError(f"unknown dataset {name!r}; valid names: {', '.join(_NAMES)}")
    return ((1, 8, 8), 10) if name == "digits" else ((3, 32, 32), 10)


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    subset: int | None = None,
) -> Dataset:
    """Load a dataset with deterministic, stratified train/validation/test splits.

    ``digits``: test is 20 % of all images; ``cifar10``: the official test set, in one fixed shuffled
    order (any prefix is class-balanced). Validation is ``val_fraction`` of the rest.

    Args:
        name: ``"digits"`` (scikit-learn's bundled 8x8 digits) or ``"cifar10"``.
        data_dir: CIFAR-10 only: a ``cifar-10-batches-py`` folder, a folder holding one, or a
            folder with ``cifar10_train_jpeg.npz``/``cifar10_test_jpeg.npz``. Default:
            ``$HIL_SHARED/datasets/cifar10``, else ``shared/datasets/cifar10`` beside the repo.
        seed: seeds the splits; the same seed always gives the same splits.
        val_fraction: the share of the training part held out for validation, in [0, 1).
        subset: if given, keep a seeded stratified subset of this many training images (for
            proxy training); validation and test are untouched.

    Returns:
        The :class:`Dataset`.

    Raises:
        InputError: unknown name, bad fraction/subset, or missing/malformed data files.
    """
    if name not in _NAMES:
        raise InputError(f"unknown dataset {name!r}; valid names: {', '.join(_NAMES)}")
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x_tr = x_te = digits.images.astype(np.uint8)[..., None]  # NHWC, values 0..16
        y_tr = y_te = digits.target.astype(np.int64)
        classes, scale = tuple(str(i) for i in range(10)), 16.0
        rest, test = _stratified_split(y_tr, round(0.2 * len(y_tr)), rng)
    else:
        x_tr, y_tr, x_te, y_te, classes = _load_cifar10_uint8(data_dir)
        rest, scale = np.arange(len(y_tr)), 255.0
        test = np.random.default_rng(_TEST_ORDER_SEED).permutation(len(y_te))
    train, val = _stratified_split(y_tr[rest], round(val_fraction * len(rest)), rng)
    train, val = rest[train], rest[val]
    if subset is not None:
        if not 0 < subset <= len(train):
            raise InputError(f"subset must be in 1..{len(train)} (the training split's size), got {subset}")
        train = train[_stratified_split(y_tr[train], subset, rng)[1]]
    return Dataset(
        name,
        _to_float_nchw(x_tr, train, scale),
        y_tr[train],
        _to_float_nchw(x_tr, val, scale),
        y_tr[val],
        _to_float_nchw(x_te, test, scale),
        y_te[test],
        classes,
    )


def _stratified_split(y: np.ndarray, n_take: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``y`` into shuffled (kept, taken): exactly ``n_take`` taken, class proportions
    kept (per-class quotas by largest remainder)."""
    labels, counts = np.unique(y, return_counts=True)
    exact = counts * (n_take / max(len(y), 1))
    quota = np.floor(exact).astype(np.int64)
    quota[np.argsort(-(exact - quota), kind="stable")[: n_take - int(quota.sum())]] += 1
    kept, taken = [], []
    for label, q in zip(labels, quota, strict=True):
        idx = rng.permutation(np.flatnonzero(y == label))
        taken.append(idx[:q])
        kept.append(idx[q:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(taken))


def _to_float_nchw(x_nhwc: np.ndarray, idx: np.ndarray, scale: float) -> np.ndarray:
    """Gather ``idx`` from uint8 NHWC images; return C-contiguous float32 NCHW divided by ``scale``."""
    out = np.ascontiguousarray(x_nhwc[idx].transpose(0, 3, 1, 2), dtype=np.float32)
    out /= scale
    return out


def _load_cifar10_uint8(data_dir: str | Path | None) -> _Cifar:
    """Return (train NHWC uint8, train labels, test NHWC uint8, test labels, classes) from either layout."""
    shared = os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[2] / "shared"
    folder = Path(data_dir or Path(shared) / "datasets" / "cifar10").expanduser()
    for batches in (folder, folder / _BATCHES_DIR):
        if (batches / _BATCH_FILES[0]).is_file():
            return _load_batches(batches)
    packs = {part: folder / fname for part, fname in _PACK_FILES.items()}
    if all(p.is_file() for p in packs.values()):
        x_tr, y_tr, classes = _load_pack(packs["train"])
        x_te, y_te, _ = _load_pack(packs["test"])
        return x_tr, y_tr, x_te, y_te, classes
    raise InputError(
        f"no CIFAR-10 data in {folder}: expected a {_BATCHES_DIR} folder (data_batch_1..5, test_batch, "
        f"batches.meta) there or inside it, or the JPEG pack {' and '.join(_PACK_FILES.values())}"
    )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves numpy's array-rebuilding callables and refuses everything else."""

    _ALLOWED = frozenset(
        {"numpy.ndarray", "numpy.dtype", "_codecs.encode"}
        | {
            f"numpy.{core}.{fn}"
            for fn in ("multiarray._reconstruct", "multiarray.scalar", "numeric._frombuffer")
            for core in ("core", "_core")
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if f"{module}.{name}" not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_pickle(path: Path) -> dict[bytes, Any]:
    """Read one standard CIFAR-10 pickle file; it must be a dict."""
    try:
        with path.open("rb") as f:
            obj = _NumpyOnlyUnpickler(f, encoding="bytes").load()
    except FileNotFoundError as exc:
        raise InputError(f"missing {path.name} in {path.parent} (a standard {_BATCHES_DIR} folder)") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise InputError(f"{path} is not a standard CIFAR-10 python batch: {exc}") from exc
    if not isinstance(obj, dict):
        raise InputError(f"{path} is not a standard CIFAR-10 python batch (not a dict)")
    return obj


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (NHWC uint8 images, int64 labels); the file stores R, G, B planes per row."""
    batch = _read_pickle(path)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    y = np.asarray(labels if isinstance(labels, list | np.ndarray) else [], dtype=np.int64)
    if not (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.shape[1:] == (3072,)
        and y.shape == data.shape[:1]
        and np.all((y >= 0) & (y <= 9))
    ):
        raise InputError(f"{path}: expected b'data' uint8 (N, 3072) and N b'labels' in 0..9")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y


def _load_batches(folder: Path) -> _Cifar:
    """Read a ``cifar-10-batches-py`` folder."""
    _logger.info("reading CIFAR-10 python batches from %s", folder)
    parts = [_read_batch(folder / fname) for fname in _BATCH_FILES]
    x_te, y_te = _read_batch(folder / "test_batch")
    names = _read_pickle(folder / "batches.meta").get(b"label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise InputError(f"{folder / 'batches.meta'}: expected b'label_names' with 10 names")
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), x_te, y_te, classes


def _pack_key(path: Path) -> str:
    """Cache key: the pack's size and the sha256 of its first MiB (survives copies; no full read)."""
    with path.open("rb") as f:
        head = hashlib.sha256(f.read(1 << 20)).hexdigest()[:16]
    return f"{path.stem}-{path.stat().st_size}-{head}-v1"  # bump v1 when the cached format changes


def _load_pack(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read one JPEG pack: (NHWC uint8 images, int64 labels, classes), decoding once via the cache."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a readable .npz: {exc}") from exc
    with npz:
        missing = {"jpeg", "offsets", "labels", "classes"} - set(npz.files)
        if missing:
            raise InputError(f"{path}: missing arrays {sorted(missing)}")
        labels = npz["labels"].astype(np.int64)  # each member is read once: NpzFile re-reads per access
        classes = tuple(str(c) for c in npz["classes"])
        cache_dir = Path(os.environ.get("HIL_CACHE_DIR") or Path.home() / ".cache" / "hil").expanduser()
        cache = cache_dir / "cifar10" / f"{_pack_key(path)}.npy"
        images = _read_cache(cache, len(labels))
        if images is None:
            jpeg, offsets = npz["jpeg"], npz["offsets"]
            if len(offsets) != len(labels) + 1 or offsets[-1] != len(jpeg):
                raise InputError(f"{path}: offsets do not match labels/jpeg")
            t0 = time.perf_counter()
            images = _decode_jpegs(jpeg, offsets, path)
            _logger.info("decoded %d JPEGs of %s in %.1f s", len(labels), path.name, time.perf_counter() - t0)
            _write_cache(cache, images)
    return images, labels, classes


def _read_cache(cache: Path, n: int) -> np.ndarray | None:
    """Memory-map a cached decode; None when absent or unusable (then it is rebuilt)."""
    if not cache.is_file():
        return None
    try:
        images = np.load(cache, mmap_mode="r", allow_pickle=False)
        if images.dtype != np.uint8 or images.shape != (n, 32, 32, 3):
            raise ValueError(f"{images.dtype} {images.shape}, expected uint8 ({n}, 32, 32, 3)")
    except (OSError, ValueError) as exc:
        _logger.warning("ignoring unusable cache %s: %s", cache, exc)
        return None
    _logger.info("cache hit: %s", cache)
    return images


def _decode_jpegs(jpeg: np.ndarray, offsets: np.ndarray, path: Path) -> np.ndarray:
    """Decode concatenated JPEG bytes into (N, 32, 32, 3) uint8 RGB."""
    from PIL import Image

    buf = jpeg.tobytes()
    out = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(out)):
        try:
            with Image.open(io.BytesIO(buf[offsets[i] : offsets[i + 1]])) as im:
                out[i] = np.asarray(im.convert("RGB"))  # a size other than 32x32 raises ValueError
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: image {i} is not a 32x32 JPEG: {exc}") from exc
    return out


def _write_cache(cache: Path, images: np.ndarray) -> None:
    """Write the decode atomically (temp file + os.replace); a failure only costs a later re-decode."""
    tmp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache.parent, suffix=".npy.tmp", delete=False) as f:
            tmp = f.name
            np.save(f, images)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, cache)
    except OSError as exc:
        _logger.warning("could not write cache %s (%s); the next load decodes again", cache, exc)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
