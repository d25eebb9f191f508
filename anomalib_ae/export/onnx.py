"""One ONNX graph from raw features to a fitted detector's score and label.

The graph takes rows ``X`` of float64, shape ``(batch, n_features)`` (an image
detector's images flattened, ``X.reshape(len(X), -1)``), and does every step of :mod:`anomalib_ae.scoring.path` inside:

1. **scaling**: ``(x - shift) / scale`` in float64, clipped to +-1e6 and
   rounded to float32 (as :class:`~anomalib_ae.detectors._scaling.InputScaler`);
2. **net**: the trained net in the scoring precision (the float64 twin for MLP
   nets, float32 for conv nets; :mod:`anomalib_ae.scoring.precision`);
3. **terms**: the fitted score terms' own ``values`` (traced from their torch
   code), the neighbour terms (code and input space) as an exact brute-force
   search over the training codes or scaled rows held in the graph
   (:class:`_NeighborSearch`);
4. **combination and offset**: the fixed training medians and weights of
   :func:`~anomalib_ae.scoring.combine`, then ``offset_``.

Outputs: ``score_samples`` (float64, higher = more normal), ``anomaly_score``
(its negative) and ``label`` (int64, -1 outlier / +1 inlier). The batch axis is
dynamic; the weights are inside the file. Every export is checked: probe rows
are scored by ONNX Runtime and by ``score_samples``, and a graph that differs by
more than :data:`PARITY_RTOL` (relative; :data:`CONV_CHECK_RTOL` for conv nets,
whose float32 kernels differ between the runtimes) is deleted and refused.

A term that cannot be written exactly is refused, never approximated: the
code-neighbour term is exported exactly only while the training codes number at
most ``max_neighbor_rows`` (default :data:`MAX_NEIGHBOR_ROWS`; the graph then holds
them and compares each row with all of them), and detectors that are not neural
detectors scoring through the score path (e.g. the Cook's-distance baseline, or a
seed ensemble of its members; a seed ensemble of neural members is exported as
the mean of their graphs) raise :class:`NotImplementedError` naming the detector.

The exporter is torch's TorchScript-based one (``torch.onnx.export(...,
dynamo=False)``): the score path is plain tensor code without data-dependent
control flow, which tracing captures exactly, and it needs neither ``onnxscript``
nor a ``torch.export`` of the float64 twin.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from anomalib_ae.detectors._scaling import _LIMIT
from anomalib_ae.detectors._validation import SCORE_LIMIT
from anomalib_ae.scoring import CodeNeighborDistance, InputNeighborDistance
from anomalib_ae.scoring.precision import scoring_net

MAX_NEIGHBOR_ROWS = 100_000
"""Default largest number of training codes a code-neighbour term is exported with."""

OPSET = 17
PARITY_RTOL = 1e-5
"""Relative tolerance of the check every export of an MLP net runs (ONNX Runtime vs
``score_samples``); measured differences are ~1e-12, the graph running in float64."""
CONV_CHECK_RTOL = 1e-4
"""The check's tolerance for conv nets, which run in float32: ONNX Runtime's float32
convolutions differ from torch's by ~1e-7 in the codes, which the code-neighbour term's
small distances magnify (measured up to 1.2e-5 relative on 1,000 8x8 images; the torch
version of the same graph matches ``score_samples`` to 6e-15)."""
_NAMES = ("X", "score_samples", "anomaly_score", "label")


class _NeighborSearch(nn.Module):
    """:class:`~anomalib_ae.scoring.CodeNeighborDistance` as exact brute-force search.

    Distances to every training code, the ``k + 1`` smallest, reduced by the
    term's own :meth:`~anomalib_ae.scoring.CodeNeighborDistance.reduce` (a
    match within ``tolerance_`` is the row itself; the k-th or the mean).
    """

    def __init__(self, term: CodeNeighborDistance, reference: np.ndarray) -> None:
        super().__init__()
        self.term = term
        self.k = int(term.k_)
        self.register_buffer("reference", torch.as_tensor(reference, dtype=torch.float64))
        self.register_buffer("reference_sq", self.reference.pow(2).sum(1))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        codes = codes.to(torch.float64)
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2, as scikit-learn's euclidean distances
        sq = codes.pow(2).sum(1, keepdim=True) - 2 * codes @ self.reference.T + self.reference_sq
        nearest = torch.topk(sq, self.k + 1, dim=1, largest=False).values.clamp_min(0).sqrt()
        return self.term.reduce(nearest)


class _ScoreGraph(nn.Module):
    """Raw rows -> (score_samples, anomaly_score, label) of a fitted neural detector."""

    def __init__(self, detector: Any, max_neighbor_rows: int) -> None:
        super().__init__()
        self.detector = detector
        self.net, self.dtype = scoring_net(detector)
        scaler = detector.scaler_
        self.register_buffer("shift", torch.as_tensor(np.asarray(scaler.shift_, np.float64)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scaler.scale_, np.float64)))
        self.terms = list(detector.score_terms_)
        self.searches = nn.ModuleDict()
        for i, term in enumerate(self.terms):
            if isinstance(term, CodeNeighborDistance):
                reference = _reference_codes(detector, term, max_neighbor_rows)
                self.searches[str(i)] = _NeighborSearch(term, reference)
        scales = detector.score_scales_
        for i, s in enumerate(scales or []):  # a scalar, or one per ensemble member
            self.register_buffer(f"scale{i}", torch.as_tensor(np.asarray(s, np.float64)))
        self.weights = [float(t.weight) for t in self.terms]
        self.offset = float(detector.offset_)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return _outputs(self.anomaly(x), self.offset)

    def anomaly(self, x: torch.Tensor) -> torch.Tensor:
        """Anomaly scores (``-score_samples``) of raw rows ``x``."""
        flat = x.to(torch.float64).flatten(1)
        scaled = ((flat - self.shift) / self.scale).clamp(-_LIMIT, _LIMIT).to(torch.float32)
        out = self.detector._outputs(self.net, scaled.to(self.dtype), self.detector)
        values = []
        for i, term in enumerate(self.terms):
            search = self.searches[str(i)] if str(i) in self.searches else None
            v = term.values(out) if search is None else search(term.queries(out))
            if isinstance(term, InputNeighborDistance):  # repeated along an ensemble's members
                v = term.per_member(v, out.net)
            values.append(v.to(torch.float64))
        if len(values) == 1:
            total = values[0]
        else:
            scales = [getattr(self, f"scale{i}") for i in range(len(values))]
            total = sum(w * (v / s) for v, s, w in zip(values, scales, self.weights))
        if total.ndim == 2:  # an ensemble's members
            total = total.mean(1)
        return total.clamp(-SCORE_LIMIT, SCORE_LIMIT)


class _SeedEnsembleGraph(nn.Module):
    """A :class:`~anomalib_ae.SeedEnsembleDetector`: the mean of its members' anomaly scores."""

    def __init__(self, detector: Any, max_neighbor_rows: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(
            _ScoreGraph(m, max_neighbor_rows) for m in detector.estimators_
        )
        self.offset = float(detector.offset_)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        total = torch.stack([m.anomaly(x) for m in self.members], 0).mean(0)
        return _outputs(total, self.offset)


def _outputs(total: torch.Tensor, offset: float) -> tuple[torch.Tensor, ...]:
    score = -total.clamp(-SCORE_LIMIT, SCORE_LIMIT)
    label = torch.where(score - offset < 0, -1, 1).to(torch.int64)
    return score, -score, label


def _reference_codes(detector: Any, term: CodeNeighborDistance, limit: int) -> np.ndarray:
    index = term.index(detector)
    if index.n_samples > limit:
        without = (
            "score_terms without 'input_neighbors'"
            if isinstance(term, InputNeighborDistance)
            else "code_neighbors=0"
        )
        raise ValueError(
            f"{type(detector).__name__}'s score term {term!r} searches {index.n_samples} "
            f"training rows, more than max_neighbor_rows={limit}; an exact export would "
            f"hold them all in the graph. Raise max_neighbor_rows, or fit with {without} "
            "for a graph without this term."
        )
    codes = getattr(index, "codes_", None)
    if codes is None:
        codes = index.searcher._fit_X
    return np.asarray(codes, dtype=np.float64)


def check_exportable(detector: Any) -> None:
    """Raise :class:`NotImplementedError` naming ``detector`` if it has no ONNX export.

    Examples
    --------
    >>> from anomalib_ae import CooksDistanceDetector
    >>> check_exportable(CooksDistanceDetector())
    Traceback (most recent call last):
    ...
    NotImplementedError: CooksDistanceDetector cannot be exported to ONNX: only neural detectors scoring through anomalib_ae.scoring.path (a net_, scaler_ and score_terms_) are.
    """
    from anomalib_ae.detectors.base import BaseNeuralDetector
    from anomalib_ae.detectors.seed_ensemble import SeedEnsembleDetector

    cls = type(detector)
    if type(detector) is SeedEnsembleDetector and hasattr(detector, "estimators_"):
        for member in detector.estimators_:
            try:
                check_exportable(member)
            except NotImplementedError as exc:
                raise NotImplementedError(f"SeedEnsembleDetector of members: {exc}") from None
        return
    through_path = isinstance(detector, BaseNeuralDetector) and (
        cls._anomaly_scores is BaseNeuralDetector._anomaly_scores
    )
    if not through_path or getattr(detector, "_onnx_exportable", True) is False:
        raise NotImplementedError(
            f"{cls.__name__} cannot be exported to ONNX: only neural detectors "
            "scoring through anomalib_ae.scoring.path (a net_, scaler_ and score_terms_) are."
        )


def to_onnx(
    detector: Any, path: str | os.PathLike, *, max_neighbor_rows: int = MAX_NEIGHBOR_ROWS
) -> None:
    """Write fitted ``detector`` as one ONNX graph, raw rows -> score and label.

    Parameters
    ----------
    detector : a fitted neural detector
    path : str or path-like
        The ``.onnx`` file to write (weights inside).
    max_neighbor_rows : int, default=MAX_NEIGHBOR_ROWS
        Largest number of training codes a code-neighbour term is exported with
        (exactly, the codes inside the graph); above it the export is refused.

    Raises
    ------
    NotImplementedError
        For a detector without an ONNX export (named in the message), or whose
        graph fails the parity check on probe rows (then no file is left).
    ValueError
        For a code-neighbour term over more than ``max_neighbor_rows`` codes.

    Examples
    --------
    >>> import numpy as np, onnxruntime, tempfile, os
    >>> from anomalib_ae import AutoEncoderDetector
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> det = AutoEncoderDetector(hidden_dims=(4,), latent_dim=2, max_epochs=1,
    ...                           random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "det.onnx")
    >>> det.to_onnx(path)
    >>> session = onnxruntime.InferenceSession(path)
    >>> score = session.run(["score_samples"], {"X": X})[0]
    >>> bool(np.allclose(score, det.score_samples(X), rtol=1e-5, atol=0))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(detector)
    check_exportable(detector)
    example = torch.zeros((2, detector.n_features_in_), dtype=torch.float64)
    name = type(detector).__name__
    build = _SeedEnsembleGraph if hasattr(detector, "estimators_") else _ScoreGraph
    graph = build(detector, max_neighbor_rows).eval()  # ValueError: too many codes
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation, tracer notes
            torch.onnx.export(
                graph,
                (example,),
                os.fspath(path),
                input_names=["X"],
                output_names=list(_NAMES[1:]),
                dynamic_axes={axis: {0: "batch"} for axis in _NAMES},
                opset_version=OPSET,
                dynamo=False,
            )
    except (RuntimeError, TypeError, ValueError, AttributeError) as exc:
        raise NotImplementedError(
            f"{name} cannot be exported to ONNX: tracing its score terms "
            f"{detector.score_terms_} failed ({type(exc).__name__}: {str(exc)[:200]})."
        ) from exc
    _verify(detector, path)


def _verify(detector: Any, path: str | os.PathLike) -> None:
    """Score probe rows with ONNX Runtime and ``score_samples``; refuse the file if they differ.

    A term whose torch code leaves the traced graph (a NumPy step, a Python
    branch on the data) would be frozen into a constant by tracing; this check
    turns that into an error instead of a silently different model.
    """
    import onnxruntime

    rng = np.random.default_rng(0)
    members = getattr(detector, "estimators_", [detector])
    rtol = CONV_CHECK_RTOL if any(m._uses_conv() for m in members) else PARITY_RTOL
    scaler = members[0].scaler_
    session = onnxruntime.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        noise = rng.normal(size=(n, detector.n_features_in_))
        X = np.asarray(scaler.shift_, np.float64) + np.asarray(scaler.scale_, np.float64) * noise
        got = session.run(["score_samples"], {"X": X})[0]
        names = getattr(detector, "feature_names_in_", None)
        expected = detector.score_samples(X if names is None else pd.DataFrame(X, columns=names))
        if not np.allclose(got, expected, rtol=rtol, atol=0):
            worst = float(np.max(np.abs(got - expected) / np.maximum(np.abs(expected), 1e-300)))
            os.remove(path)
            raise NotImplementedError(
                f"{type(detector).__name__} cannot be exported to ONNX exactly: the graph's "
                f"scores differ from score_samples by up to {worst:.2e} (relative) on "
                f"{n} probe row(s), more than {rtol}; one of its score terms "
                f"{detector.score_terms_} does not trace. No file was written."
            )
