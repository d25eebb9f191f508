"""Save a fitted detector to one file and load it back without running code from the file.

The file is a zip archive of two members:

``metadata.json``
    The format name and version, the anomalib_ae, torch, numpy and
    scikit-learn versions that wrote it, the detector class (as its registry
    target), the constructor parameters and the fitted state as JSON, and a
    SHA-256 checksum over all of it and the tensor payload.
``tensors.pt``
    A flat ``{name: tensor}`` dict written with ``torch.save``: the nets'
    weights (``state_dict``) and every numeric array of the fitted state.

Loading reads the tensors with ``torch.load(..., weights_only=True,
map_location="cpu")`` (no pickled code runs; a model trained on a GPU loads
on a CPU), resolves the class only among the registered detectors, rebuilds
each net with the detector's ``_build_net(n_features_in_)`` and loads its
weights. Plain objects of the fitted state are rebuilt only from an
allow-list: ``InputScaler``, the score terms (``ScoreTerm``), the neighbour
indexes (``NeighborIndex``), their subclasses and :data:`PERSISTABLE_CLASSES`.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
import json
import os
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted
from torch import nn

from anomalib_ae._version import __version__
from anomalib_ae.detectors._scaling import InputScaler
from anomalib_ae.registry import _REGISTRY
from anomalib_ae.scoring import NeighborIndex, ScoreTerm

FORMAT = "anomalib_ae.detector"
FORMAT_VERSION = 2  # 2: fitted score terms (score_terms_); files of version 1 need a refit
_METADATA, _TENSORS = "metadata.json", "tensors.pt"
_T = "__type__"

# Plain (non-estimator) classes the fitted state may hold, besides InputScaler and its
# subclasses: {"module:Class": class}. Add a class here to make it savable.
PERSISTABLE_CLASSES: dict[str, type] = {}


# Fitted scikit-learn helpers stored as (parameters, training data) and refitted on load,
# which rebuilds them exactly: {"module:Class": (class, attribute holding the fitted data)}.
REFITTABLE: dict[str, tuple[type, str]] = {
    "sklearn.neighbors:NearestNeighbors": (NearestNeighbors, "_fit_X"),
}


def _target(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _persistable() -> dict[str, type]:
    """The allow-list: :data:`PERSISTABLE_CLASSES` and the (imported) subclasses of
    ``InputScaler``, ``ScoreTerm`` and ``NeighborIndex``, those classes included."""
    found, todo = {}, [InputScaler, ScoreTerm, NeighborIndex]
    while todo:
        cls = todo.pop()
        found[_target(cls)] = cls
        todo.extend(cls.__subclasses__())
    return {**found, **PERSISTABLE_CLASSES}


PathOrFile = str | os.PathLike | IO[bytes]


class DetectorFileError(ValueError):
    """A file that is not a readable detector file of a compatible format version."""


# ---- encoding --------------------------------------------------------------------------
class _Encoder:
    """Turn Python values into JSON, moving arrays and tensors to the tensor payload."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}

    def _add(self, key: str, tensor: torch.Tensor) -> str:
        while key in self.tensors:  # keys are paths in the state; keep them unique regardless
            key += "'"
        self.tensors[key] = tensor.detach().cpu()
        return key

    def encode(self, value: Any, key: str) -> Any:
        if isinstance(value, np.generic):  # before float: np.float64 is a float too
            return {_T: "numpy_scalar", "dtype": value.dtype.str, "value": value.item()}
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, tuple | list):
            items = [self.encode(v, f"{key}.{i}") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {_T: "tuple", "items": items}
        if isinstance(value, dict):
            items = [
                [self.encode(k, f"{key}.key"), self.encode(v, f"{key}.{k}")]
                for k, v in value.items()
            ]
            return {_T: "dict", "items": items}
        if isinstance(value, np.ndarray):
            return self._array(value, key)
        if isinstance(value, torch.Tensor):
            return {_T: "tensor", "key": self._add(key, value)}
        if isinstance(value, nn.Module):
            for name, tensor in value.state_dict().items():
                self._add(f"{key}/{name}", tensor)
            return {_T: "module", "prefix": key, "class": type(value).__name__}
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state()
            return {
                _T: "random_state",
                "state": [name, keys.tolist(), pos, has_gauss, cached],
            }
        target = _target(type(value))
        if isinstance(value, BaseEstimator) and target in _REGISTRY.values():
            # a fitted member of an ensemble: its parameters and state, like a saved file's
            return {
                _T: "detector",
                "class": target,
                "params": _encode_params(value, self, prefix=f"{key}.params."),
                "state": _encode_state(value, self, prefix=f"{key}."),
            }
        for name, (cls, data) in REFITTABLE.items():
            if type(value) is cls:
                return {
                    _T: "refit",
                    "class": name,
                    "params": self.encode(value.get_params(deep=False), f"{key}.params"),
                    "data": self.encode(np.asarray(getattr(value, data)), f"{key}.data"),
                }
        if _persistable().get(target) is type(value):
            return {_T: "object", "class": target, "state": self.encode(vars(value), key)}
        raise TypeError(f"cannot store a value of type {target}")

    def _array(self, array: np.ndarray, key: str) -> dict:
        if array.dtype == object:
            if all(isinstance(v, str) for v in array.flat):
                return {
                    _T: "str_array",
                    "shape": list(array.shape),
                    "items": array.ravel().tolist(),
                }
            raise TypeError("cannot store an object array that holds non-strings")
        if array.dtype.kind not in "biufc":
            raise TypeError(f"cannot store an array of dtype {array.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return {_T: "ndarray", "key": self._add(key, tensor), "dtype": array.dtype.str}


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_T)
    if kind == "tuple":
        return tuple(_decode(v, tensors) for v in value["items"])
    if kind == "dict":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["items"]}
    if kind == "numpy_scalar":
        return np.dtype(value["dtype"]).type(value["value"])
    if kind == "str_array":
        return np.asarray(value["items"], dtype=object).reshape(value["shape"])
    if kind == "ndarray":
        return tensors[value["key"]].numpy().astype(np.dtype(value["dtype"]), copy=False)
    if kind == "tensor":
        return tensors[value["key"]]
    if kind == "random_state":
        name, keys, pos, has_gauss, cached = value["state"]
        rs = np.random.RandomState()
        rs.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        return rs
    if kind == "object":
        cls = _persistable().get(value["class"])
        if cls is None:
            raise DetectorFileError(
                f"The file holds an object of unknown class {value['class']!r}."
            )
        obj = cls.__new__(cls)
        obj.__dict__.update(_decode(value["state"], tensors))
        return obj
    if kind == "refit":
        if value["class"] not in REFITTABLE:
            raise DetectorFileError(
                f"The file holds an object of unknown class {value['class']!r}."
            )
        cls = REFITTABLE[value["class"]][0]
        return cls(**_decode(value["params"], tensors)).fit(_decode(value["data"], tensors))
    if kind == "module":
        return _PendingModule(value["prefix"])
    if kind == "detector":
        return _restore(_resolve_class(value["class"]), value["params"], value["state"], tensors)
    raise DetectorFileError(f"The file holds a value of unknown type {kind!r}.")


class _PendingModule:
    """Stands for a net until the detector can rebuild it (after the rest of its state)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix


# ---- checksum, class resolution ----------------------------------------------------------
def _checksum(metadata: dict, payload: bytes) -> str:
    body = {k: v for k, v in metadata.items() if k != "checksum"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    digest.update(payload)
    return digest.hexdigest()


def _class_target(cls: type) -> str:
    target = _target(cls)
    if target not in _REGISTRY.values():
        raise TypeError(
            f"{cls.__name__} is not a registered detector, so a file of it could not be "
            "loaded; register it first with anomalib_ae.register(name, 'module:Class')."
        )
    return target


def _resolve_class(target: Any) -> type[BaseEstimator]:
    if not isinstance(target, str) or target not in _REGISTRY.values():
        raise DetectorFileError(
            f"The file names detector class {target!r}, which is not a registered detector; "
            "only registered detectors are loaded (register it with anomalib_ae.register)."
        )
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


# ---- save / load --------------------------------------------------------------------------
def _encode_params(detector: BaseEstimator, encoder: _Encoder, prefix: str = "params.") -> dict:
    defaults = {
        name: p.default for name, p in inspect.signature(type(detector).__init__).parameters.items()
    }
    params = {}
    for name, value in detector.get_params(deep=False).items():
        try:
            params[name] = encoder.encode(value, f"{prefix}{name}")
        except TypeError as exc:
            warnings.warn(
                f"Parameter {name}={value!r} cannot be saved ({exc}); the file stores its "
                f"default {defaults.get(name)!r} instead. The fitted model is unaffected; "
                "only a refit of the loaded detector would differ.",
                UserWarning,
                stacklevel=3,
            )
            params[name] = encoder.encode(defaults.get(name), f"{prefix}{name}")
    return params


def _encode_state(detector: BaseEstimator, encoder: _Encoder, prefix: str = "") -> dict:
    """The fitted attributes of ``detector`` (everything that is not a parameter), encoded."""
    state = {}
    skip = set(detector.get_params(deep=False))
    for name, value in vars(detector).items():
        if name in skip:
            continue
        try:
            state[name] = encoder.encode(value, f"{prefix}{name}")
        except TypeError as exc:
            raise TypeError(
                f"Cannot save {type(detector).__name__}: fitted attribute {name!r} ({exc}). "
                "Use pickle or joblib for this detector."
            ) from None
    return state


def save(detector: BaseEstimator, path: PathOrFile, *, extra: dict | None = None) -> None:
    """Write fitted ``detector`` to ``path`` (one zip file; see the module notes).

    Parameters
    ----------
    detector : a fitted registered detector
    path : str, path-like or binary file object
        Written atomically when a path (a temporary file, then a rename).
    extra : dict or None, default=None
        JSON-serialisable notes stored under ``"extra"`` in the metadata (covered
        by the checksum), e.g. the column schema ``aeod fit`` keeps; read back
        with :func:`read_metadata`.

    Examples
    --------
    >>> import io, numpy as np
    >>> from anomalib_ae import AutoEncoderDetector, load
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=2,
    ...                           random_state=0).fit(X)
    >>> buffer = io.BytesIO()
    >>> det.save(buffer)
    >>> _ = buffer.seek(0)
    >>> bool((load(buffer).score_samples(X) == det.score_samples(X)).all())
    True
    """
    check_is_fitted(detector)
    target = _class_target(type(detector))
    encoder = _Encoder()
    params = _encode_params(detector, encoder)
    state = _encode_state(detector, encoder)
    buffer = io.BytesIO()
    torch.save(encoder.tensors, buffer)
    payload = buffer.getvalue()
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "anomalib_ae_version": __version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "sklearn_version": sklearn.__version__,
        "class": target,
        "params": params,
        "state": state,
    }
    if extra is not None:
        metadata["extra"] = json.loads(json.dumps(extra))  # JSON only
    metadata["checksum"] = _checksum(metadata, payload)
    _write_zip(path, json.dumps(metadata, indent=1, sort_keys=True).encode(), payload)


def _write_zip(path: PathOrFile, metadata: bytes, payload: bytes) -> None:
    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_METADATA, metadata)
            archive.writestr(_TENSORS, payload)

    if hasattr(path, "write"):
        write(path)  # type: ignore[arg-type]
        return
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_zip(path: PathOrFile) -> tuple[dict, bytes]:
    name = getattr(path, "name", path)
    try:
        with zipfile.ZipFile(path) as archive:
            raw, payload = archive.read(_METADATA), archive.read(_TENSORS)
        metadata = json.loads(raw)
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise DetectorFileError(
            f"{name} is not a readable anomalib_ae detector file ({exc}); it may be truncated "
            "or corrupt. Save the detector again with detector.save(path)."
        ) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise DetectorFileError(f"{name} is not an anomalib_ae detector file.")
    return metadata, payload


def read_metadata(path: PathOrFile) -> dict:
    """The metadata of a detector file, without loading its tensors or its class.

    Parameters
    ----------
    path : str, path-like or binary file object

    Returns
    -------
    dict
        The stored metadata (format, versions, ``class``, encoded ``params`` and
        ``state``, ``extra`` if any) and ``checksum_ok``: whether the stored
        checksum matches the file's contents.

    Examples
    --------
    >>> import io, numpy as np
    >>> from anomalib_ae import CooksDistanceDetector
    >>> buffer = io.BytesIO()
    >>> CooksDistanceDetector(target=0).fit(np.random.default_rng(0).normal(size=(30, 3))).save(
    ...     buffer)
    >>> meta = read_metadata(buffer)
    >>> meta["class"], meta["checksum_ok"]
    ('anomalib_ae.detectors.cooks:CooksDistanceDetector', True)
    """
    metadata, payload = _read_zip(path)
    metadata["checksum_ok"] = metadata.get("checksum") == _checksum(metadata, payload)
    return metadata


def decode_plain(value: Any) -> Any:
    """A metadata value decoded where it needs no tensors (else a short description).

    Examples
    --------
    >>> decode_plain({"__type__": "tuple", "items": [8, 4]})
    (8, 4)
    """
    try:
        return _decode(value, {})
    except (KeyError, DetectorFileError, TypeError, ValueError):
        kind = value.get(_T) if isinstance(value, dict) else type(value).__name__
        return f"<{kind}>"


def load(path: PathOrFile) -> BaseEstimator:
    """Load a detector written by :meth:`~anomalib_ae.detectors.BaseDetector.save`.

    Parameters
    ----------
    path : str, path-like or binary file object

    Returns
    -------
    detector
        Fitted, with its nets on the CPU in eval mode; scores are identical to
        the saved detector's.

    Raises
    ------
    DetectorFileError
        (a ``ValueError``) for a file that is not a detector file, is corrupt or
        was modified after saving (checksum), comes from an incompatible format
        version, or names a class that is not a registered detector.

    Examples
    --------
    >>> import io, numpy as np
    >>> from anomalib_ae import CooksDistanceDetector, load
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> det = CooksDistanceDetector(target=0).fit(X)
    >>> buffer = io.BytesIO()
    >>> det.save(buffer)
    >>> _ = buffer.seek(0)
    >>> restored = load(buffer)
    >>> type(restored).__name__, bool((restored.score_samples(X) == det.score_samples(X)).all())
    ('CooksDistanceDetector', True)
    """
    metadata, payload = _read_zip(path)
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise DetectorFileError(
            f"The file has detector format version {version!r} (written by anomalib_ae "
            f"{metadata.get('anomalib_ae_version')}); this anomalib_ae {__version__} reads "
            f"version {FORMAT_VERSION}. Load it with the anomalib_ae that wrote it, or refit."
        )
    if metadata.get("checksum") != _checksum(metadata, payload):
        raise DetectorFileError(
            "The detector file was modified or corrupted after it was saved (checksum "
            "mismatch); save the detector again."
        )
    cls = _resolve_class(metadata.get("class"))
    if metadata.get("anomalib_ae_version") != __version__:
        warnings.warn(
            f"The detector was saved with anomalib_ae {metadata.get('anomalib_ae_version')} "
            f"and is loaded with {__version__}; check its scores before relying on them.",
            UserWarning,
            stacklevel=2,
        )
    try:
        tensors = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as exc:  # weights_only refuses anything but tensors and containers
        raise DetectorFileError(
            f"The detector file's tensor payload cannot be read safely ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); it was not written by "
            "anomalib_ae. Nothing from it was executed."
        ) from None
    if not isinstance(tensors, dict):
        raise DetectorFileError("The detector file's tensor payload is not a dict of tensors.")
    return _restore(cls, metadata.get("params"), metadata.get("state"), tensors)


def _restore(cls: type, params: Any, state: Any, tensors: dict) -> BaseEstimator:
    """A ``cls`` detector with the decoded ``params`` and fitted ``state``, nets rebuilt."""
    try:
        params = {k: _decode(v, tensors) for k, v in params.items()}
        state = {k: _decode(v, tensors) for k, v in state.items()}
        detector = cls(**params)
    except DetectorFileError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DetectorFileError(
            f"The file's contents do not fit {cls.__name__} ({type(exc).__name__}: {exc}); "
            "refit the detector."
        ) from None
    pending = {}
    for name, value in state.items():
        if isinstance(value, _PendingModule):
            pending[name] = value
        else:
            setattr(detector, name, value)
    for name, value in pending.items():
        setattr(detector, name, _rebuild_module(detector, name, value.prefix, tensors))
    return detector


def _rebuild_module(detector: Any, name: str, prefix: str, tensors: dict) -> nn.Module:
    if name != "net_" or not hasattr(detector, "_build_net"):
        raise DetectorFileError(
            f"{type(detector).__name__} has a net in attribute {name!r}, which cannot be "
            "rebuilt (only `net_` is, through `_build_net`)."
        )
    state = {k[len(prefix) + 1 :]: t for k, t in tensors.items() if k.startswith(prefix + "/")}
    with torch.random.fork_rng(devices=[]):
        net = detector._build_net(detector.n_features_in_)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise DetectorFileError(
            f"The saved weights do not fit the {type(net).__name__} that "
            f"{type(detector).__name__} builds now ({str(exc).splitlines()[0]}); refit."
        ) from None
    return net.cpu().eval()
