"""The interface a likelihood implements to be fitted, profiled and turned into limits.

:class:`~exonu.stats.fit.Fitter` minimises, :class:`~exonu.stats.limits.Profile` profiles and
:func:`~exonu.stats.limits.compute_limit` computes limits and intervals of any cost function
that implements :class:`LikelihoodModel`. Two do:

* :class:`~exonu.stats.model.BinnedModel` — XMASS-I's χ² (PLB 809 (2020) 135741, eqs. 4-7)
  or the Baker–Cousins Poisson χ² of a binned workspace;
* :class:`~exonu.external.unbinned.UnbinnedModel` — the extended unbinned likelihood of a
  data release.

The cost is −2 ln L up to a constant (a χ², ``errordef`` = 1), a function of the parameter
vector θ = (POIs, nuisances): one parameter of interest x per signal (dimensionless; the
physical coupling is x · ``scale`` of the signal), then the nuisance parameters. Each
parameter is described by a :class:`ParameterInfo`: its starting (nominal) value, bounds,
and the width of its Gaussian constraint, whose pull term
:math:`(a_i - \\theta_i)^2/\\sigma_i^2` is part of the cost (global observable a_i in
``aux``).

The Neyman construction additionally needs toys (``sample_toy`` and ``copy_with_data``),
which only the binned model has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from exonu.stats.errors import ModelError

__all__ = ["LikelihoodModel", "ParameterInfo", "SignalLabels", "activity_parameter"]

FloatArray = npt.NDArray[np.float64]

# Upper bounds of the activity scales: 1 + 10σ when constrained, 100 when free. With the MC
# variance of the binned χ² growing as p², the data term tends to a constant as p → ∞ and
# MIGRAD could run away along that plateau (exonu.stats.model, "bounds").
_P_MAX_FREE = 100.0
_P_MAX_SIGMAS = 10.0


@dataclass(frozen=True)
class ParameterInfo:
    """Description of one fit parameter.

    Attributes
    ----------
    name : str
        ``<signal name>`` for a parameter of interest, ``p_<background>``, ``q_<systematic>``
        or ``r_<signal systematic>`` for nuisances.
    kind : str
        ``"poi"``, ``"activity"`` (p_j), ``"bkg_sys"`` (q_k) or ``"sig_sys"`` (r_l).
    nominal : float
        Value in the nominal (background-only, no pull) model: 0 for x, q, r and 1 for p.
    lower, upper : float or None
        Bounds (``None`` = unbounded).
    sigma : float or None
        Width of the Gaussian constraint (``None`` = unconstrained).
    fixed : bool
        Fixed by construction (a background with ``relative_uncertainty`` 0).
    """

    name: str
    kind: str
    nominal: float
    lower: float | None
    upper: float | None
    sigma: float | None
    fixed: bool = False


def activity_parameter(background: str, relative_uncertainty: float | None) -> ParameterInfo:
    """Activity scale p of ``background``: nominal 1, bounded to [0, 1 + 10σ] (constrained
    by σ = ``relative_uncertainty``) or [0, 100] (free, ``None``); fixed at 1 when σ is 0."""
    rel = relative_uncertainty
    return ParameterInfo(
        f"p_{background}",
        "activity",
        1.0,
        0.0,
        _P_MAX_FREE if not rel else 1.0 + _P_MAX_SIGMAS * rel,
        rel if rel else None,
        fixed=rel == 0.0,
    )


def parameter_index(names: Sequence[str], name: str) -> int:
    """Position of the parameter ``name`` in ``names`` (a model's parameter vector)."""
    try:
        return list(names).index(name)
    except ValueError:
        raise ModelError(
            f"no parameter {name!r} in the model (parameters: {', '.join(names)})"
        ) from None


class SignalLabels(Protocol):
    """What a limit needs to know of the signal behind a parameter of interest.

    :class:`~exonu.stats.workspace.Signal` is one; the result copies the labels.
    """

    @property
    def name(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def parameter(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def flavour(self) -> str: ...
    @property
    def mediator_mass_mev(self) -> float | None: ...
    @property
    def treatment(self) -> str | None: ...
    @property
    def atomic_model(self) -> str | None: ...
    @property
    def scale(self) -> float:
        """Physical coupling θ = x · scale."""
        ...

    @property
    def leading_power(self) -> int:
        """Highest power of x in the signal (the strength variable sign(x)|x|^P of limits)."""
        ...


@runtime_checkable
class LikelihoodModel(Protocol):
    """A cost function that :class:`~exonu.stats.fit.Fitter` fits and
    :class:`~exonu.stats.limits.Profile` profiles (see the module docstring).

    Attributes
    ----------
    likelihood : str
        Name of the likelihood (``"chi2"``, ``"poisson"``, ``"unbinned"``), copied into results.
    errordef : float
        1: the cost is a χ².
    parameters : tuple of ParameterInfo
        The parameters, POIs first; bounds, starting values and constraints.
    names : tuple of str
        Their names.
    npar, n_poi : int
        Number of parameters and of parameters of interest.
    nominal : ndarray
        Starting (nominal) parameter vector.
    aux : ndarray
        Global observables of the constraints, one per nuisance parameter.
    signals : sequence of SignalLabels
        The signal of each POI.
    n_bins : int
        Number of fitted observations (bins, or events of an unbinned fit).
    analysis : str
        Analysis name (copied into results).
    warnings : tuple of str
        Plausibility warnings of the inputs (copied into results).
    """

    likelihood: str
    errordef: float
    parameters: tuple[ParameterInfo, ...]
    names: tuple[str, ...]
    npar: int
    n_poi: int
    nominal: FloatArray
    aux: FloatArray
    n_bins: int

    @property
    def signals(self) -> Sequence[SignalLabels]: ...
    @property
    def analysis(self) -> str: ...
    @property
    def warnings(self) -> tuple[str, ...]: ...

    def __call__(self, theta: npt.ArrayLike) -> float:
        """The cost at θ."""
        ...

    def value_and_gradient(self, theta: npt.ArrayLike) -> tuple[float, FloatArray]:
        """The cost and its analytic gradient at θ."""
        ...

    def gradient(self, theta: npt.ArrayLike) -> FloatArray:
        """Analytic gradient at θ (MIGRAD is given it explicitly)."""
        ...

    def hessian(self, theta: npt.ArrayLike) -> FloatArray:
        """Analytic Hessian at θ (MIGRAD's seed, HESSE, moves onto bounds)."""
        ...

    def g2(self, theta: npt.ArrayLike) -> FloatArray:
        """Diagonal of the Hessian."""
        ...

    def constraint_cost(self, theta: npt.ArrayLike) -> float:
        """The pull terms of the constraints alone."""
        ...

    def poi_scan_cost(self, theta: npt.ArrayLike, s: int, grid: npt.ArrayLike) -> FloatArray:
        """The cost without the pull terms for POI ``s`` on ``grid``, the other parameters at
        θ (vectorised; starting values of the fits)."""
        ...

    def initial_steps(self) -> FloatArray:
        """MIGRAD's initial step per parameter (about one standard deviation)."""
        ...

    def symmetric_pois(self) -> tuple[int, ...]:
        """POIs bounded to x ≥ 0 whose cost is even in x (the fit leaves the bound to the
        symmetry and reports |x|)."""
        ...

    def sensitivity_scale(self, signal: int = 0) -> float:
        """Rough x at which POI ``signal`` changes the cost by ~1."""
        ...

    def index(self, name: str) -> int:
        """Position of the parameter ``name``."""
        ...

    def poi_index(self, signal: str) -> int:
        """Position of the POI of ``signal``."""
        ...

    def ndof(self, fixed: Mapping[str, float] | None = None) -> int:
        """Degrees of freedom of a fit with the parameters ``fixed`` held fixed."""
        ...

    def digest(self) -> str:
        """sha256 identifying the model's inputs (copied into results)."""
        ...
