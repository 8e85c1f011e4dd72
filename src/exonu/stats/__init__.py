"""Statistics of exonu: workspace, χ² model, fits, limits, toys and Δχ² curves.

Everything downstream of the workspace (docs/architecture.md). What to use when:

* :mod:`~exonu.stats.workspace` — read, validate and write the JSON model document
  (:func:`load_workspace`, :func:`dump_workspace`, :meth:`Workspace.digest`).
* :class:`BinnedModel` — the cost function of XMASS-I eqs. (4)-(7) (``likelihood="chi2"``) or its
  Poisson (Baker–Cousins) counterpart, with analytic gradient and Hessian; one parameter of
  interest per signal.
* :class:`LikelihoodModel` — the interface every likelihood implements (the binned model
  and the unbinned one of :mod:`exonu.external.unbinned`) to be fitted, profiled
  (:class:`Profile`) and turned into limits (:func:`compute_limit`) by the same code.
* :func:`fit` / :class:`Fitter` — MIGRAD fits with validity and boundary checks
  (:class:`FitResult`).
* :func:`upper_limit` — observed 90 % CL limits by the XMASS Bayesian method (default), the
  profile likelihood ratio, or a Neyman/Feldman–Cousins construction (:class:`LimitResult`).
* :mod:`~exonu.stats.plausibility` — :func:`~exonu.stats.plausibility.checked_limit`, the limit
  of the workflow with its plausibility warnings (empty window, zero background, a fit at a
  bound, a background-only discrepancy, a window-unstable limit) and ``strict`` mode.
* :func:`expected_limits` / :func:`combine_expected` — median and ±1σ/±2σ bands from
  background-only toys, sharded (:class:`ExpectedLimits`).
* :func:`delta_chi2_curve`, :func:`contour_2d` — Δχ² curves and two-coupling surfaces.
* :func:`seed_from_name`, :func:`toy_generator`, :func:`sample_toy` — reproducible toys.
* :func:`make_synthetic_workspace` — XMASS-like random models for tests and benchmarks.

All functions taking a :class:`Workspace` speak physical units (θ = x · scale); the model-level
API (:class:`BinnedModel`, :func:`fit`, :func:`compute_limit`) uses the workspace's
dimensionless x. Errors are :class:`StatsError` (a :class:`ValueError`) subclasses.
"""

from __future__ import annotations

from exonu.stats.curves import Contour2D, DeltaChi2Curve, contour_2d, delta_chi2_curve
from exonu.stats.errors import LimitError, ModelError, StatsError, WorkspaceError
from exonu.stats.expected import ExpectedLimits, combine_expected, expected_limits
from exonu.stats.fit import FitResult, Fitter, fit
from exonu.stats.likelihood import LikelihoodModel, ParameterInfo
from exonu.stats.limits import (
    LimitResult,
    NeymanBelt,
    Profile,
    bayesian_interval,
    compute_limit,
    neyman_belt,
    profile_threshold,
    upper_limit,
)
from exonu.stats.model import BinnedModel
from exonu.stats.synthetic import make_synthetic_workspace
from exonu.stats.toys import sample_toy, seed_from_name, toy_generator
from exonu.stats.workspace import (
    Background,
    BackgroundSystematic,
    Signal,
    Workspace,
    dump_json,
    dump_workspace,
    load_workspace,
)

__all__ = [
    "Background",
    "BackgroundSystematic",
    "BinnedModel",
    "Contour2D",
    "DeltaChi2Curve",
    "ExpectedLimits",
    "FitResult",
    "Fitter",
    "LikelihoodModel",
    "LimitError",
    "LimitResult",
    "ModelError",
    "NeymanBelt",
    "ParameterInfo",
    "Profile",
    "Signal",
    "StatsError",
    "Workspace",
    "WorkspaceError",
    "bayesian_interval",
    "combine_expected",
    "compute_limit",
    "contour_2d",
    "delta_chi2_curve",
    "dump_json",
    "dump_workspace",
    "expected_limits",
    "fit",
    "load_workspace",
    "make_synthetic_workspace",
    "neyman_belt",
    "profile_threshold",
    "sample_toy",
    "seed_from_name",
    "toy_generator",
    "upper_limit",
]
