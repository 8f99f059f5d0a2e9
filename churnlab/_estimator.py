"""scikit-learn's estimator conventions for churnlab's models, without importing scikit-learn.

The purchase and spend models (:class:`churnlab.models.LikelihoodModel` and its subclasses)
follow scikit-learn's estimator API: parameters are the keyword arguments of ``__init__``,
``get_params`` / ``set_params`` read and write them, :func:`sklearn.base.clone` rebuilds an
unfitted copy, the repr shows the parameters that differ from their defaults, and a method
called before ``fit`` raises :class:`sklearn.exceptions.NotFittedError`. Deriving them from
:class:`sklearn.base.BaseEstimator` would make ``import churnlab`` load scikit-learn, and with
it scipy.stats, scipy.sparse and scipy.linalg: about 0.6 s, two thirds of the import. This
module provides the same behaviour at no import cost:

* :class:`EstimatorMixin`: ``get_params``, ``set_params`` and ``__repr__`` written as
  scikit-learn writes them, so that they give the same results (checked against
  :class:`~sklearn.base.BaseEstimator` in ``tests/models/test_estimator.py``);
* :func:`check_is_fitted`: scikit-learn's check of fitted attributes; only a model that is
  *not* fitted imports scikit-learn, whose own check then raises its ``NotFittedError`` (a
  subclass of ValueError and AttributeError) with its own message.

:class:`churnlab.churn.ChurnModel` is a classifier that scikit-learn's model selection works
with, and keeps :class:`~sklearn.base.BaseEstimator`.
"""

from __future__ import annotations

import inspect
import math
import numbers
from functools import cache
from typing import Any

#: Width of scikit-learn's estimator repr. A repr that fits on one line of this width (and has
#: at most ``N_CHAR_MAX`` non-blank characters) is the one-line form written by
#: :meth:`EstimatorMixin.__repr__`; a longer one is wrapped and elided by scikit-learn's printer.
REPR_WIDTH = 80


def _is_scalar_nan(x: Any) -> bool:
    """``True`` for a float NaN (numpy's included), as ``sklearn.utils.is_scalar_nan``."""
    return not isinstance(x, numbers.Integral) and isinstance(x, numbers.Real) and math.isnan(x)


def _plain_dict(value: Any) -> bool:
    """A dict that scikit-learn's printer renders item by item (not through its own repr)."""
    return isinstance(value, dict) and type(value).__repr__ is dict.__repr__


def _leaf(value: Any) -> bool:
    """A value that scikit-learn's printer renders as ``repr(value)``.

    Its printer treats dicts, lists and tuples item by item and estimators parameter by
    parameter; every other value is its ``repr``.
    """
    if hasattr(value, "get_params") and not isinstance(value, type):
        return False
    if _plain_dict(value):
        return False
    plain_sequence = (isinstance(value, list) and type(value).__repr__ is list.__repr__) or (
        isinstance(value, tuple) and type(value).__repr__ is tuple.__repr__
    )
    return not plain_sequence


def _one_line(value: Any) -> str | None:
    """scikit-learn's one-line rendering of a parameter value, None if it needs its printer.

    Covered: leaves (see :func:`_leaf`) and dicts with string keys and leaf values, such as
    ``initial_params``; their items are sorted by key, as scikit-learn's printer sorts them.
    """
    if _leaf(value):
        return repr(value)
    if _plain_dict(value) and all(isinstance(k, str) and _leaf(v) for k, v in value.items()):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in sorted(value.items())) + "}"
    return None


@cache
def _scikit_learn_twin(cls: type) -> type:
    """A :class:`~sklearn.base.BaseEstimator` subclass with the name and ``__init__`` of ``cls``.

    scikit-learn's printer renders only its own estimators; a twin holding the same parameter
    values is rendered exactly as ``cls`` would be if it derived from BaseEstimator.
    """
    from sklearn.base import BaseEstimator

    namespace = {"__init__": cls.__init__, "__module__": cls.__module__}
    namespace["__qualname__"] = cls.__qualname__
    return type(cls.__name__, (BaseEstimator,), namespace)


class EstimatorMixin:
    """scikit-learn's estimator API (parameters, clone, repr, tags) without scikit-learn.

    A subclass names its parameters as keyword arguments of ``__init__``, which stores each
    under its own name and nothing else (scikit-learn's convention); validation belongs in
    ``fit``. :func:`sklearn.base.clone` works on instances (through ``get_params``).

    Examples
    --------
    >>> class Smoother(EstimatorMixin):
    ...     def __init__(self, *, span: int = 3, weights: dict | None = None):
    ...         self.span = span
    ...         self.weights = weights
    >>> Smoother(span=5)
    Smoother(span=5)
    >>> Smoother().set_params(weights={"b": 2.0, "a": 1.0}).get_params()
    {'span': 3, 'weights': {'b': 2.0, 'a': 1.0}}
    >>> Smoother(weights={"b": 2.0, "a": 1.0})
    Smoother(weights={'a': 1.0, 'b': 2.0})
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Names of the parameters: the arguments of ``__init__``, sorted."""
        init = cls.__init__
        if init is object.__init__:
            return []
        parameters = [
            p
            for p in inspect.signature(init).parameters.values()
            if p.name != "self" and p.kind != p.VAR_KEYWORD
        ]
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            raise RuntimeError(
                f"{cls.__name__} must name its parameters in the signature of __init__ (no "
                f"*args), got {inspect.signature(init)}"
            )
        return sorted(p.name for p in parameters)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the model, by name.

        Parameters
        ----------
        deep : bool
            Also list the parameters of parameters that are estimators themselves, as
            ``<parameter>__<name>``.

        Returns
        -------
        dict
            Parameter names mapped to their values, names in alphabetical order.
        """
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any):
        """Set parameters by name (``<parameter>__<name>`` for those of a nested estimator).

        Parameters
        ----------
        **params
            New parameter values.

        Returns
        -------
        self
            The model itself, unfitted parameters changed (fitted attributes are kept until the
            next ``fit``).

        Raises
        ------
        ValueError
            For a name that is not a parameter.
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for name, value in params.items():
            key, delim, sub_key = name.partition("__")
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {self}. "
                    f"Valid parameters are: {self._get_param_names()!r}."
                )
            if delim:
                nested.setdefault(key, {})[sub_key] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub_params in nested.items():
            valid[key].set_params(**sub_params)
        return self

    def _changed_params(self) -> dict[str, Any]:
        """The parameters whose repr differs from their default's (as scikit-learn decides)."""
        defaults = {
            name: p.default for name, p in inspect.signature(self.__init__).parameters.items()
        }

        def changed(key: str, value: Any) -> bool:
            if key not in defaults or defaults[key] is inspect.Parameter.empty:
                return True
            return repr(value) != repr(defaults[key]) and not (
                _is_scalar_nan(defaults[key]) and _is_scalar_nan(value)
            )

        return {k: v for k, v in self.get_params(deep=False).items() if changed(k, v)}

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 (scikit-learn's name)
        params = self._changed_params()
        rendered = {key: _one_line(value) for key, value in sorted(params.items())}
        if all(text is not None for text in rendered.values()):
            inner = ", ".join(f"{key}={text}" for key, text in rendered.items())
            line = f"{type(self).__name__}({inner})"
            if len(line) <= REPR_WIDTH and len("".join(line.split())) <= N_CHAR_MAX:
                return line
        twin = _scikit_learn_twin(type(self))
        shadow = twin.__new__(twin)
        vars(shadow).update(self.get_params(deep=False))
        return twin.__repr__(shadow, N_CHAR_MAX)

    def __sklearn_tags__(self):
        """scikit-learn's default tags (asked for by scikit-learn's own checks only)."""
        from sklearn.base import BaseEstimator

        return BaseEstimator.__sklearn_tags__(self)


def check_is_fitted(estimator: Any, attributes: str | list[str] | tuple[str, ...]) -> None:
    """Refuse a model that has not been fitted, as ``sklearn.utils.validation.check_is_fitted``.

    A fitted model (an instance with ``fit``, scikit-learn's tags and every attribute in
    ``attributes``) passes without importing scikit-learn; anything else is handed to
    scikit-learn's check, which raises its own errors with its own messages.

    Parameters
    ----------
    estimator : object
        The model.
    attributes : str or list or tuple of str
        Attributes that exist once the model is fitted, e.g. ``"params_"``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If an attribute is missing ("This BetaGeo instance is not fitted yet. Call 'fit'
        with appropriate arguments before using this estimator."); a subclass of ValueError
        and AttributeError.
    TypeError
        If ``estimator`` is a class or has no ``fit``.
    """
    names = attributes if isinstance(attributes, list | tuple) else [attributes]
    if (
        not inspect.isclass(estimator)
        and hasattr(estimator, "fit")
        and hasattr(estimator, "__sklearn_tags__")
        and all(hasattr(estimator, name) for name in names)
    ):
        return
    from sklearn.utils.validation import check_is_fitted as scikit_learn_check

    scikit_learn_check(estimator, attributes)
