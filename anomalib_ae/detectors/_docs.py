"""Parameter descriptions shared by the neural detectors, written once.

A class docstring includes them with the placeholder ``{neural_params}``,
filled in by :func:`fill_doc`.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

NEURAL_PARAMS = """\
hidden_dims : tuple of int, default=(64, 32)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int, default=8
        Width of the code (the bottleneck).
    activation : str or None, default="relu"
        Hidden activation ("relu", "leaky_relu", "elu", "gelu", "selu", "tanh",
        "sigmoid", "identity"); ``None`` makes the net linear.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    batch_norm : bool, default=False
        Batch normalisation in the hidden layers.
<max_epochs_doc>    batch_size : int, default=128
        Training batch size; fewer rows than this train in one batch.
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser.
    scaler : {"standard", "minmax", "none"}, default=<scaler_default>
        Input scaling fitted inside the detector on the training rows; errors
        are measured in scaled units.
    trim_fraction : float or "auto", default="auto"
        Robust training: once ``trim_warmup`` of the epochs have run, each
        training batch ignores its ``trim_fraction`` rows of largest loss (a
        trimmed mean), so that outliers hidden in unlabelled training data stop
        teaching the net to rebuild them. In [0, 0.5]; ``"auto"``: 0.1 for
        tables, 0 for conv nets (image one-class training sets are clean).
    trim_warmup : float, default=0.2
        Share of ``max_epochs`` trained on the full loss before trimming starts.
    validation_fraction : float, default=0.1
        Share of the training rows held out to monitor the loss when
        ``early_stopping`` is on.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for ``patience`` epochs.
    patience : int, default=10
        Patience of early stopping, in epochs.
    inference_batch_size : int, default=4096
        Rows per forward pass when scoring.
    inference_precision : {"float64", "float32"}, default="float64"
        How a fitted MLP net runs after training (scoring, ``transform`` and
        the fit of the score terms). ``"float64"``: a float64 copy of the net,
        whose per-row results do not depend on the batch. ``"float32"``: the
        trained float32 net on fixed blocks of 4,096 rows (the last padded;
        ``inference_batch_size`` is rounded up to whole blocks),
        equally batch-independent and about twice as fast; scores differ from
        the float64 ones by float32 rounding. Conv nets always run in float32.
    contamination : float, default=0.1
        Expected share of outliers in the training rows, in (0, 0.5]; sets
        ``offset_`` (the threshold of ``predict``) unless ``threshold`` or
        ``fpr`` is set.
    calibration : float or None, default=None
        Share of the rows given to ``fit`` held out (at random, seeded by
        ``random_state``) as clean calibration rows for ``p_values``, ``flag``
        and ``fpr``, instead of calling ``calibrate(X_cal)``; they are not
        trained on (nor used for early stopping). Meant for clean ``X``:
        anomalies among the calibration rows make the p-values conservative.
    fpr : float or None, default=None
        Target false-positive rate: ``offset_`` becomes the conformal cut on
        the calibration scores, so ``predict`` flags at most this share of
        fresh inliers on average (split-conformal guarantee). Needs at least
        ``1 / fpr - 1`` calibration rows.
    threshold : {"iqr", "mad"}, thresholder or None, default=None
        Without clean calibration rows, a rule on the training rows' anomaly
        scores sets ``offset_``: ``"iqr"`` (Tukey's fence), ``"mad"`` (median
        plus 3 robust standard deviations) or a PyThresh thresholder (any
        object with ``eval(scores)`` returning 1 for outliers). None: the
        ``contamination`` quantile.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling and noise inside ``fit``; an int
        gives identical scores on every refit.
    verbose : bool, default=False
        Show Lightning's progress bar and model summary.
    accelerator : str, default="cpu"
        Lightning accelerator for training ("cpu", "gpu", "auto", ...). The
        fitted net is always kept on the CPU.
    devices : int, str or list, default=1
        Lightning devices for training.
    precision : str, int or None, default=None
        Lightning precision (e.g. "bf16-mixed"); None keeps the default.
    trainer_kwargs : dict or None, default=None
        Any other ``pytorch_lightning.Trainer`` argument (e.g.
        ``{"gradient_clip_val": 1.0}``)."""

IMAGE_PARAMS = """\
image_shape : tuple of int or None, default=None
        Shape ``(H, W)`` or ``(C, H, W)`` of one image when ``X`` holds
        flattened images as rows (e.g. in a 2-D scikit-learn pipeline). Not
        needed for image arrays ``(n, H, W)`` or ``(n, C, H, W)``, whose shape
        is read from ``X``.
    architecture : {"auto", "conv", "mlp"}, default="auto"
        ``"auto"``: a convolutional encoder/decoder for image input (image
        arrays, or rows with ``image_shape``), an MLP for tables; ``"conv"``:
        require image input; ``"mlp"``: always an MLP on the flattened pixels.
        Image input is scaled with one shift and scale for all pixels (global
        ``scaler``), not per pixel.
    channels : tuple of int, default=(32, 64)
        Channels of the conv encoder's stride-2 3x3 convolutions (each halves
        H and W; the decoder mirrors them with stride-2 transposed
        convolutions); ``hidden_dims`` is not used by the conv nets.
    code_neighbors : int or "auto", default="auto"
        Add to the score the distance from the row's latent code to its
        ``code_neighbors``-th nearest training code, with both parts in units
        of their median over the training rows (see
        :class:`~anomalib_ae.scoring.CodeNeighborDistance`): rows rebuilt well but
        unlike every training row stand out too. 0: the model's own score
        only. ``"auto"``: 1 for conv nets (image input; on MNIST one-class it
        raised a conv autoencoder's mean AUROC from 0.952 to 0.959), 5 for
        tables (on ADBench's 29 tables x 3 seeds it raised the VAE from 0.817
        to 0.832 mean AUROC). One exact copy of the row among
        the training codes is skipped, so training rows scored again get
        their leave-one-out distance.
    neighbor_index : {"auto", "exact", "approximate"}, default="auto"
        How the training codes are searched (the code-neighbour term and
        ``kneighbors``). ``"exact"``: exact search
        (:class:`~anomalib_ae.scoring.ExactIndex`), whose cost per row grows
        with the training set; ``"approximate"``: a faiss inverted-file index
        (:class:`~anomalib_ae.scoring.IVFIndex`, with the ``faiss`` extra;
        without faiss, exact search over a seeded subset of 50,000 training
        codes, :class:`~anomalib_ae.scoring.SubsetIndex`); ``"auto"``: exact up
        to 50,000 training rows, approximate above (see ``docs/scaling.md``
        for what the approximation costs in AUROC). Deterministic either
        way."""

INPUT_NEIGHBOR_PARAMS = """\
input_neighbors : "auto" or None, default="auto"
        ``"auto"``: on wide tables, where half the training rows are no more
        than the features (image or text embeddings of a few hundred rows),
        score a row by its mean distance to its 3 nearest training rows in
        the scaled input space (:class:`~anomalib_ae.scoring.InputNeighborDistance`,
        leave-one-out on the training rows) instead of the net's terms: a net
        fitted on so few rows scores worse than that distance. Chosen on
        ADBench's 15 MVTec-AD ResNet18 embedding sets and confirmed on the 15
        ViT ones (``docs/defaults.md``). Taller tables and images keep the
        net's terms. ``None``: always the net's terms. The net is trained
        either way (``transform``, ``feature_scores``)."""

ERROR_SCALING_PARAMS = """\
error_scaling : {"auto", "median", "none"}, default="auto"
        ``"median"``: divide each feature's squared error by its median over
        the training rows before averaging over features, so that a feature
        rebuilt almost exactly on normal rows counts when it is off (see
        :class:`~anomalib_ae.scoring.ReconstructionError`); ``"none"``: the plain mean
        squared error. ``"auto"``: median for tables, none for conv nets
        (``feature_scores`` returns the errors the score averages)."""

NEURAL_ATTRIBUTES = """\
net_ : torch.nn.Module
        The trained net, on the CPU, in eval mode.
    scaler_ : InputScaler
        The fitted input scaling.
    history_ : list of dict
        Per-epoch ``train_loss`` (and ``val_loss``).
    n_epochs_ : int
        Epochs actually run.
    seed_ : int
        The integer seed ``fit`` derived from ``random_state`` (weights,
        shuffling, training noise, and the VAE's Monte-Carlo scoring draws).
    offset_ : float
        Threshold on ``score_samples``: the ``contamination`` quantile of the
        training scores (or the ``threshold`` rule's cut, or the ``fpr``
        conformal cut).
    calibration_scores_ : ndarray or None
        Sorted anomaly scores of the calibration rows (``calibration`` or
        ``calibrate``); None before calibration.
    code_index_ : anomalib_ae.scoring.NeighborIndex
        Index over the latent codes of the training rows, used by
        ``kneighbors`` (similarity search in code space) and the
        code-neighbour term; ``fit`` keeps the codes and the search tree is
        built the first time it is used.
    score_terms_ : list of anomalib_ae.scoring.ScoreTerm
        The fitted terms the score is made of (see
        :mod:`anomalib_ae.scoring.path`).
    score_scales_ : list of ndarray or None
        Each term's median over the training rows, which the combination
        divides by when there are several terms; None for one term.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input only)."""


MAX_EPOCHS_INT = """    max_epochs : int, default=<max_epochs_default>
        Training epochs (an upper bound when ``early_stopping``). Short on
        purpose: on contaminated training data a longer-trained net learns to
        rebuild the outliers too (ablation in ``docs/defaults.md``).
"""

MAX_EPOCHS_AUTO = """    max_epochs : int or "auto", default="auto"
        Training epochs (an upper bound when ``early_stopping``). ``"auto"``:
        20 for tables, short on purpose (on contaminated training data a
        longer-trained net learns to rebuild the outliers too); for images
        (conv nets), enough epochs for at least 400 optimiser steps, and at
        least 20 (a class of 700 MNIST images at ``batch_size=128``: 67
        epochs). Both in ``docs/defaults.md``.
"""


def fill_doc(obj: T) -> T:
    """Fill the shared parameter blocks (``{neural_params}``, ...) in ``obj.__doc__``."""
    if obj.__doc__:
        init = getattr(obj, "__init__", None)
        signature = getattr(init, "__signature__", None)
        scaler = signature.parameters.get("scaler") if signature is not None else None
        default = f'"{scaler.default}"' if scaler is not None else '"standard"'
        epochs = signature.parameters.get("max_epochs") if signature is not None else None
        epochs = epochs.default if epochs is not None else 20
        epochs_doc = (
            MAX_EPOCHS_AUTO
            if epochs == "auto"
            else MAX_EPOCHS_INT.replace("<max_epochs_default>", str(epochs))
        )
        params = NEURAL_PARAMS.replace("<scaler_default>", default)
        obj.__doc__ = (
            obj.__doc__.replace("{neural_params}", params.replace("<max_epochs_doc>", epochs_doc))
            .replace("{neural_attributes}", NEURAL_ATTRIBUTES)
            .replace("{image_params}", IMAGE_PARAMS)
            .replace("{error_scaling_params}", ERROR_SCALING_PARAMS)
            .replace("{input_neighbor_params}", INPUT_NEIGHBOR_PARAMS)
        )
    return obj
