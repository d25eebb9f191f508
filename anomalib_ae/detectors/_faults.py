"""``fit`` either finishes or leaves the detector unfitted (errors and Ctrl+C alike)."""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from sklearn.base import BaseEstimator

F = TypeVar("F", bound=Callable[..., Any])


def clear_fitted(estimator: BaseEstimator, keep: Collection[str] = ()) -> None:
    """Remove every attribute that ``fit`` set (all but the parameters and sklearn's config).

    Attributes named in ``keep`` (those the estimator had before the failed
    ``fit`` started, e.g. the ``_parent_callback_ctx`` a scikit-learn
    meta-estimator sets around a step's ``fit`` and deletes afterwards) stay,
    unless they are fitted state: a name ending in ``_`` or ``_n_features_out``.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> class Toy(BaseEstimator):
    ...     def __init__(self, a=1):
    ...         self.a = a
    >>> toy = Toy()
    >>> toy.offset_, toy._codes = 0.5, 3
    >>> clear_fitted(toy)
    >>> sorted(vars(toy))
    ['a']
    """
    params = set(estimator.get_params(deep=False))
    for name in list(vars(estimator)):
        if name in params or name.startswith("_sklearn"):
            continue
        fitted = (name.endswith("_") and not name.startswith("__")) or name == "_n_features_out"
        if fitted or name not in keep:
            delattr(estimator, name)


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Lightning's ``sys.exit(1)`` after it caught a ``KeyboardInterrupt``."""
    return isinstance(exc, SystemExit) and isinstance(exc.__context__, KeyboardInterrupt)


def unfitted_on_failure(fit: F) -> F:
    """Wrap ``fit`` so that an exception or an interrupt leaves the estimator unfitted.

    Lightning catches ``KeyboardInterrupt`` inside ``Trainer.fit``, shuts down
    and calls ``sys.exit(1)``; the wrapper turns that back into the
    ``KeyboardInterrupt`` the user pressed, and puts back the Ctrl+C handler
    Lightning switched off. Whatever stops ``fit`` early, the attributes of any
    earlier fit are removed too, so the estimator is never half fitted (one
    net, another's scaler): it is simply unfitted, as if new.
    """

    @functools.wraps(fit)
    def wrapper(self: BaseEstimator, *args: Any, **kwargs: Any) -> Any:
        main = threading.current_thread() is threading.main_thread()
        handler = signal.getsignal(signal.SIGINT) if main else None
        before = set(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException as exc:
            clear_fitted(self, keep=before)
            if _interrupted(exc) or isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt(
                    f"{type(self).__name__}.fit was interrupted; the detector is left unfitted. "
                    "Call fit again to train it."
                ) from None
            raise
        finally:
            if main and handler is not None and signal.getsignal(signal.SIGINT) != handler:
                signal.signal(signal.SIGINT, handler)

    wrapper.__wrapped_unfitted_on_failure__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
