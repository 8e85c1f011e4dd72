"""The workspace: one JSON document holding the binned model of an analysis.

A workspace carries everything the statistics need and nothing else (docs/architecture.md, "data
contracts"): the energy binning, the observed counts :math:`D_i`, the background components
:math:`B_{ij}` with their Monte-Carlo variances and RI-activity constraints
:math:`\\sigma(B_{RI})_j`, the background systematic shifts :math:`\\sigma(B_{sys})_{ijk}`, and one
or more signal bases, each an exact polynomial in a dimensionless coupling :math:`x`
(physical :math:`\\theta = x \\cdot \\mathrm{scale}`):

.. math:: S_i(x) = \\sum_p x^p\\, T_{p,i}, \\qquad
          \\sigma^2(S_{stat})_i(x) = \\sum_p x^p\\, V_{p,i},

with relative signal systematic shifts :math:`\\delta_{il} = \\sigma(S_{sys})_{il} / S_i` (XMASS-I,
PLB 809 (2020) 135741, eqs. 4-7, see :mod:`exonu.stats.model`).

The document is validated twice: against the JSON schema shipped next to this module
(``workspace.schema.json``, format ``exonu-workspace`` version 1.x.y) and by the semantic checks
of :func:`Workspace.from_dict` (bin counts, uniqueness of names, references between
components, fit windows). Every failure raises :class:`~exonu.stats.errors.WorkspaceError`
with a one-line message naming the document and the JSON path, e.g.
``workspace 'x.json': backgrounds[3].expected has 49 bins, binning has 50``.

Typical use::

    ws = load_workspace("results/default/workspace.json")
    ws.signal("magnetic_moment").fit_mask       # bins used in that fit
    dump_workspace(ws, "copy.json")             # canonical (sorted keys)
    ws.digest()                                 # sha256 of the canonical JSON
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
import numpy as np
import numpy.typing as npt

from exonu import resources
from exonu.stats.errors import WorkspaceError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Background",
    "BackgroundSystematic",
    "Signal",
    "SignalSystematic",
    "SignalTerm",
    "Workspace",
    "dump_workspace",
    "load_workspace",
    "workspace_schema",
]

FORMAT_NAME = "exonu-workspace"
FORMAT_VERSION = "1.0.0"

Flavour = Literal["all", "e", "mu", "tau"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Relative tolerance used to decide whether a bin lies inside a fit window.
_EDGE_RTOL = 1e-9


def _frozen(values: Sequence[float] | npt.ArrayLike, dtype: Any = np.float64) -> Any:
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


@cache
def workspace_schema() -> dict[str, Any]:
    """Return the JSON schema of the workspace format (package data ``workspace.schema.json``)."""
    text = resources.read_text(resources.WORKSPACE_SCHEMA)
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True, eq=False)
class Background:
    """One background component j (XMASS eq. 5).

    Attributes
    ----------
    name : str
        Component name (e.g. ``"pmt_u238"``).
    expected : ndarray
        :math:`B_{ij}`, expected counts per bin at activity scale :math:`p_j = 1`.
    mc_variance : ndarray
        Monte-Carlo statistical variance of :math:`B_{ij}` per bin.
    relative_uncertainty : float or None
        :math:`\\sigma(B_{RI})_j` of XMASS eq. 7; ``None`` = unconstrained, ``0`` = fixed.
    """

    name: str
    expected: FloatArray
    mc_variance: FloatArray
    relative_uncertainty: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return {
            "name": self.name,
            "expected": self.expected.tolist(),
            "mc_variance": self.mc_variance.tolist(),
            "relative_uncertainty": self.relative_uncertainty,
        }


@dataclass(frozen=True, eq=False)
class BackgroundSystematic:
    """One background systematic k: absolute 1σ shifts :math:`\\sigma(B_{sys})_{ijk}` (eq. 5).

    ``shifts`` maps background names to per-bin shifts of that component's counts at
    :math:`p_j = 1`; components not listed are unaffected.
    """

    name: str
    shifts: Mapping[str, FloatArray]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        return {"name": self.name, "shifts": {k: v.tolist() for k, v in self.shifts.items()}}


@dataclass(frozen=True, eq=False)
class SignalTerm:
    """A coefficient array of the signal polynomial: ``x**power * values`` per bin."""

    power: int
    values: FloatArray


@dataclass(frozen=True, eq=False)
class SignalSystematic:
    """Signal systematic l: relative 1σ shift :math:`\\delta_{il}` per bin (XMASS eq. 6)."""

    name: str
    relative_shifts: FloatArray


@dataclass(frozen=True, eq=False)
class Signal:
    """One signal hypothesis: the expected counts as a polynomial in the coupling.

    Attributes
    ----------
    name : str
        Unique name in the workspace (used as the name of the parameter of interest).
    model, flavour, parameter, unit, mediator_mass_mev, treatment, atomic_model
        Physics labels, copied into every result.
    scale : float
        Physical value :math:`\\theta = x \\cdot` ``scale``.
    x_bounds : tuple
        Allowed range of :math:`x` (``None`` = unbounded).
    terms : tuple of SignalTerm
        :math:`T_{p,i}`: :math:`S_i(x) = \\sum_p x^p T_{p,i}`.
    variance_terms : tuple of SignalTerm
        :math:`V_{p,i}`: :math:`\\sigma^2(S_{stat})_i(x) = \\sum_p x^p V_{p,i}`.
    systematics : tuple of SignalSystematic
        Relative shifts :math:`\\delta_{il}`.
    fit_window_kev : tuple of float
        Bins whose both edges lie inside the window are fitted.
    free_backgrounds : tuple of str
        Backgrounds whose :math:`\\sigma(B_{RI})` constraint is not applied in this fit.
    fit_mask : ndarray of bool
        Bins inside ``fit_window_kev`` (derived).
    """

    name: str
    model: str
    flavour: Flavour
    parameter: str
    unit: str
    mediator_mass_mev: float | None
    treatment: str | None
    atomic_model: str | None
    scale: float
    x_bounds: tuple[float | None, float | None]
    terms: tuple[SignalTerm, ...]
    variance_terms: tuple[SignalTerm, ...]
    systematics: tuple[SignalSystematic, ...]
    fit_window_kev: tuple[float, float]
    free_backgrounds: tuple[str, ...]
    fit_mask: npt.NDArray[np.bool_]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def powers(self) -> tuple[int, ...]:
        """Powers of :math:`x` present in the signal polynomial (ascending)."""
        return tuple(sorted(t.power for t in self.terms))

    @property
    def leading_power(self) -> int:
        """Highest power of the signal polynomial (sets the Bayesian prior, see limits)."""
        return max(t.power for t in self.terms)

    @property
    def two_sided(self) -> bool:
        """True if negative values of the coupling are allowed (``x_bounds[0]`` < 0)."""
        lo = self.x_bounds[0]
        return lo is None or lo < 0

    def expected(self, x: float) -> FloatArray:
        """Signal counts :math:`S^0_i(x) = \\sum_p x^p T_{p,i}` in every bin (nominal)."""
        out = np.zeros_like(self.terms[0].values)
        for t in self.terms:
            out = out + x**t.power * t.values
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation."""
        d: dict[str, Any] = {
            "name": self.name,
            "model": self.model,
            "flavour": self.flavour,
            "parameter": self.parameter,
            "unit": self.unit,
            "mediator_mass_mev": self.mediator_mass_mev,
            "treatment": self.treatment,
            "atomic_model": self.atomic_model,
            "scale": self.scale,
            "x_bounds": list(self.x_bounds),
            "terms": [{"power": t.power, "expected": t.values.tolist()} for t in self.terms],
            "variance_terms": [
                {"power": t.power, "values": t.values.tolist()} for t in self.variance_terms
            ],
            "systematics": [
                {"name": s.name, "relative_shifts": s.relative_shifts.tolist()}
                for s in self.systematics
            ],
            "fit_window_kev": list(self.fit_window_kev),
            "free_backgrounds": list(self.free_backgrounds),
        }
        if self.metadata:
            d["metadata"] = dict(self.metadata)
        return d


@dataclass(frozen=True, eq=False)
class Workspace:
    """A validated workspace (see the module docstring and ``workspace.schema.json``).

    Build it with :func:`load_workspace` or :meth:`Workspace.from_dict`; arrays are read-only.
    ``warnings`` are the plausibility warnings of the inputs (one line each, see
    :mod:`exonu.stats.plausibility`); every limit computed from the workspace inherits them.
    They are written only when there are some, so a workspace without warnings has the same
    document and :meth:`digest` as before the field existed.
    """

    analysis: str
    version: str
    edges_kev: FloatArray
    observed: IntArray
    livetime_s: float
    fiducial_mass_kg: float
    backgrounds: tuple[Background, ...]
    background_systematics: tuple[BackgroundSystematic, ...]
    signals: tuple[Signal, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<dict>"
    warnings: tuple[str, ...] = ()

    @property
    def n_bins(self) -> int:
        """Number of energy bins."""
        return int(self.observed.size)

    @property
    def signal_names(self) -> tuple[str, ...]:
        """Names of all signals, in document order."""
        return tuple(s.name for s in self.signals)

    @property
    def background_names(self) -> tuple[str, ...]:
        """Names of all background components, in document order."""
        return tuple(b.name for b in self.backgrounds)

    def signal(self, name: str) -> Signal:
        """Return the signal called ``name``.

        Raises
        ------
        WorkspaceError
            If there is no such signal.
        """
        for s in self.signals:
            if s.name == name:
                return s
        known = ", ".join(self.signal_names) or "none"
        raise WorkspaceError(f"workspace {self.source!r}: no signal {name!r} (known: {known})")

    def with_observed(self, observed: npt.ArrayLike) -> Workspace:
        """Return a copy with other observed counts (same length, non-negative integers)."""
        obs = np.asarray(observed)
        if obs.shape != self.observed.shape:
            raise WorkspaceError(
                f"workspace {self.source!r}: observed has {obs.size} bins, binning has "
                f"{self.n_bins}"
            )
        d = self.to_dict()
        d["observed"] = [int(v) for v in obs]
        return Workspace.from_dict(d, source=self.source)

    # -- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (inverse of :meth:`from_dict`)."""
        d: dict[str, Any] = {
            "schema": FORMAT_NAME,
            "version": self.version,
            "analysis": self.analysis,
            "binning": {"edges_kev": self.edges_kev.tolist()},
            "observed": [int(v) for v in self.observed],
            "exposure": {"livetime_s": self.livetime_s, "fiducial_mass_kg": self.fiducial_mass_kg},
            "backgrounds": [b.to_dict() for b in self.backgrounds],
            "background_systematics": [s.to_dict() for s in self.background_systematics],
            "signals": [s.to_dict() for s in self.signals],
        }
        if self.metadata:
            d["metadata"] = dict(self.metadata)
        if self.warnings:
            d["warnings"] = list(self.warnings)
        return d

    def with_warnings(self, warnings: Sequence[str]) -> Workspace:
        """Copy with ``warnings`` added to the existing ones (duplicates dropped, order kept)."""
        merged = tuple(dict.fromkeys([*self.warnings, *(str(w) for w in warnings)]))
        return dataclasses.replace(self, warnings=merged)

    def canonical_json(self) -> str:
        """Canonical JSON text: sorted keys, no whitespace, shortest float repr."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    def digest(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json`; identifies the model in every result."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "<dict>") -> Workspace:
        """Validate a workspace document (schema + semantic checks) and build the object.

        Parameters
        ----------
        d : mapping
            The parsed JSON document.
        source : str
            Name used in error messages (usually the file name).

        Raises
        ------
        WorkspaceError
            On the first schema or semantic violation, naming the JSON path.
        """
        _validate_schema(d, source)
        return _build(d, source)


# -- validation ----------------------------------------------------------------------------


def _json_path(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def _validate_schema(d: Mapping[str, Any], source: str) -> None:
    validator_cls = jsonschema.validators.validator_for(workspace_schema())
    validator = validator_cls(workspace_schema())
    errors = sorted(validator.iter_errors(d), key=lambda e: (len(e.absolute_path), e.message))
    if not errors:
        return
    err = errors[0]
    path = _json_path(list(err.absolute_path))
    msg = err.message
    if len(msg) > 200:
        msg = msg[:197] + "..."
    raise WorkspaceError(f"workspace {source!r}: {path}: {msg}")


class _Checker:
    """Semantic checks with error messages that name the source and the JSON path."""

    def __init__(self, source: str, n_bins: int) -> None:
        self.source = source
        self.n = n_bins

    def fail(self, path: str, what: str) -> WorkspaceError:
        return WorkspaceError(f"workspace {self.source!r}: {path} {what}")

    def array(self, values: Sequence[float], path: str, *, non_negative: bool) -> FloatArray:
        arr = np.asarray(values, dtype=np.float64)
        if arr.size != self.n:
            raise self.fail(path, f"has {arr.size} bins, binning has {self.n}")
        if not np.all(np.isfinite(arr)):
            i = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise self.fail(f"{path}[{i}]", f"is {arr[i]}, expected a finite number")
        if non_negative and np.any(arr < 0):
            i = int(np.flatnonzero(arr < 0)[0])
            raise self.fail(f"{path}[{i}]", f"is {arr[i]:g}, expected >= 0")
        return _frozen(arr)

    def unique(self, names: Sequence[str], path: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise self.fail(f"{path}[{i}].name", f"{name!r} is not unique")
            seen.add(name)


def _finite(value: float, path: str, ck: _Checker) -> float:
    if not math.isfinite(value):
        raise ck.fail(path, f"is {value}, expected a finite number")
    return float(value)


def _build(d: Mapping[str, Any], source: str) -> Workspace:
    edges = np.asarray(d["binning"]["edges_kev"], dtype=np.float64)
    n = edges.size - 1
    ck = _Checker(source, n)
    if not np.all(np.isfinite(edges)):
        raise ck.fail("binning.edges_kev", "contains a non-finite value")
    if np.any(np.diff(edges) <= 0):
        i = int(np.flatnonzero(np.diff(edges) <= 0)[0])
        raise ck.fail(
            f"binning.edges_kev[{i + 1}]",
            f"is {edges[i + 1]:g} after {edges[i]:g}, expected strictly increasing edges",
        )
    observed = np.asarray(d["observed"], dtype=np.float64)
    if observed.size != n:
        raise ck.fail("observed", f"has {observed.size} bins, binning has {n}")
    observed_int = _frozen(np.rint(observed), dtype=np.int64)

    exposure = d["exposure"]
    livetime = _finite(exposure["livetime_s"], "exposure.livetime_s", ck)
    mass = _finite(exposure["fiducial_mass_kg"], "exposure.fiducial_mass_kg", ck)

    bkg_docs = d["backgrounds"]
    ck.unique([b["name"] for b in bkg_docs], "backgrounds")
    backgrounds = []
    for j, b in enumerate(bkg_docs):
        p = f"backgrounds[{j}]"
        rel = b["relative_uncertainty"]
        backgrounds.append(
            Background(
                name=b["name"],
                expected=ck.array(b["expected"], f"{p}.expected", non_negative=True),
                mc_variance=ck.array(b["mc_variance"], f"{p}.mc_variance", non_negative=True),
                relative_uncertainty=None
                if rel is None
                else _finite(rel, f"{p}.relative_uncertainty", ck),
            )
        )
    bkg_names = {b.name for b in backgrounds}

    sys_docs = d["background_systematics"]
    ck.unique([s["name"] for s in sys_docs], "background_systematics")
    bsys = []
    for k, s in enumerate(sys_docs):
        p = f"background_systematics[{k}]"
        shifts: dict[str, FloatArray] = {}
        for comp in sorted(s["shifts"]):
            if comp not in bkg_names:
                raise ck.fail(
                    f"{p}.shifts.{comp}",
                    "names no background component (expected one of "
                    f"{', '.join(sorted(bkg_names))})",
                )
            shifts[comp] = ck.array(s["shifts"][comp], f"{p}.shifts.{comp}", non_negative=False)
        bsys.append(BackgroundSystematic(name=s["name"], shifts=shifts))

    sig_docs = d["signals"]
    ck.unique([s["name"] for s in sig_docs], "signals")
    signals = [
        _build_signal(s, f"signals[{i}]", ck, edges, bkg_names) for i, s in enumerate(sig_docs)
    ]

    return Workspace(
        analysis=d["analysis"],
        version=d["version"],
        edges_kev=_frozen(edges),
        observed=observed_int,
        livetime_s=livetime,
        fiducial_mass_kg=mass,
        backgrounds=tuple(backgrounds),
        background_systematics=tuple(bsys),
        signals=tuple(signals),
        metadata=dict(d.get("metadata", {})),
        source=source,
        warnings=tuple(str(w) for w in d.get("warnings", ())),
    )


def _build_signal(
    s: Mapping[str, Any], p: str, ck: _Checker, edges: FloatArray, bkg_names: set[str]
) -> Signal:
    scale = _finite(s["scale"], f"{p}.scale", ck)
    lo, hi = s["x_bounds"]
    if lo is not None:
        lo = _finite(lo, f"{p}.x_bounds[0]", ck)
    if hi is not None:
        hi = _finite(hi, f"{p}.x_bounds[1]", ck)
    if lo is not None and hi is not None and not lo < hi:
        raise ck.fail(f"{p}.x_bounds", f"is [{lo:g}, {hi:g}], expected lower < upper")
    if (lo is not None and lo > 0) or (hi is not None and hi < 0):
        raise ck.fail(f"{p}.x_bounds", "must contain 0 (the background-only hypothesis x = 0)")

    terms = []
    seen_powers: set[int] = set()
    for t_i, t in enumerate(s["terms"]):
        tp = f"{p}.terms[{t_i}]"
        if t["power"] in seen_powers:
            raise ck.fail(f"{tp}.power", f"{t['power']} appears twice, expected unique powers")
        seen_powers.add(t["power"])
        terms.append(
            SignalTerm(t["power"], ck.array(t["expected"], f"{tp}.expected", non_negative=False))
        )
    vterms = []
    seen_powers = set()
    for t_i, t in enumerate(s["variance_terms"]):
        tp = f"{p}.variance_terms[{t_i}]"
        if t["power"] in seen_powers:
            raise ck.fail(f"{tp}.power", f"{t['power']} appears twice, expected unique powers")
        seen_powers.add(t["power"])
        vterms.append(
            SignalTerm(t["power"], ck.array(t["values"], f"{tp}.values", non_negative=False))
        )
    # The variance polynomial must be a variance: non-negative wherever x may go. We check
    # the highest power (which dominates at large |x|) and leave sign-indefinite cross
    # terms to the model, which clips the total at zero.
    if vterms:
        top = max(vterms, key=lambda t: t.power)
        if np.any(top.values < 0):
            i = int(np.flatnonzero(top.values < 0)[0])
            raise ck.fail(
                f"{p}.variance_terms (power {top.power})",
                f"is negative in bin {i}, expected the leading variance term to be >= 0",
            )

    ck.unique([x["name"] for x in s["systematics"]], f"{p}.systematics")
    systs = tuple(
        SignalSystematic(
            x["name"],
            ck.array(
                x["relative_shifts"], f"{p}.systematics[{l_i}].relative_shifts", non_negative=False
            ),
        )
        for l_i, x in enumerate(s["systematics"])
    )

    w_lo, w_hi = (float(v) for v in s["fit_window_kev"])
    if not w_lo < w_hi:
        raise ck.fail(f"{p}.fit_window_kev", f"is [{w_lo:g}, {w_hi:g}], expected lower < upper")
    tol = _EDGE_RTOL * max(abs(edges[0]), abs(edges[-1]), 1.0)
    if w_lo < edges[0] - tol or w_hi > edges[-1] + tol:
        raise ck.fail(
            f"{p}.fit_window_kev",
            f"[{w_lo:g}, {w_hi:g}] keV is outside the binning [{edges[0]:g}, {edges[-1]:g}] keV",
        )
    mask = (edges[:-1] >= w_lo - tol) & (edges[1:] <= w_hi + tol)
    if not mask.any():
        raise ck.fail(f"{p}.fit_window_kev", f"[{w_lo:g}, {w_hi:g}] keV contains no whole bin")

    free = tuple(s["free_backgrounds"])
    for f_i, name in enumerate(free):
        if name not in bkg_names:
            raise ck.fail(
                f"{p}.free_backgrounds[{f_i}]",
                f"{name!r} names no background component",
            )

    mass = s["mediator_mass_mev"]
    return Signal(
        name=s["name"],
        model=s["model"],
        flavour=s["flavour"],
        parameter=s["parameter"],
        unit=s["unit"],
        mediator_mass_mev=None if mass is None else _finite(mass, f"{p}.mediator_mass_mev", ck),
        treatment=s["treatment"],
        atomic_model=s["atomic_model"],
        scale=scale,
        x_bounds=(lo, hi),
        terms=tuple(sorted(terms, key=lambda t: t.power)),
        variance_terms=tuple(sorted(vterms, key=lambda t: t.power)),
        systematics=systs,
        fit_window_kev=(w_lo, w_hi),
        free_backgrounds=free,
        fit_mask=_frozen(mask, dtype=np.bool_),
        metadata=dict(s.get("metadata", {})),
    )


# -- files ---------------------------------------------------------------------------------


def load_workspace(path: str | os.PathLike[str]) -> Workspace:
    """Read and validate a workspace JSON file.

    Raises
    ------
    WorkspaceError
        If the file cannot be read, is not JSON, or fails a schema or semantic check.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"workspace {str(p)!r}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise WorkspaceError(
            f"workspace {str(p)!r}: not a text file (byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start} is not UTF-8); expected a workspace JSON document"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkspaceError(
            f"workspace {str(p)!r}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from exc
    if not isinstance(doc, dict):
        raise WorkspaceError(f"workspace {str(p)!r}: expected a JSON object at the top level")
    return Workspace.from_dict(doc, source=str(p))


def to_json_text(obj: Any) -> str:
    """Deterministic, readable JSON: sorted keys, 1-space indent, numeric arrays on one line.

    ``json.loads(to_json_text(obj)) == obj`` for any JSON-serialisable ``obj`` without NaN.
    """

    def fmt(o: Any, depth: int) -> str:
        pad = " " * (depth + 1)
        if isinstance(o, Mapping):
            if not o:
                return "{}"
            items = [
                f"{pad}{json.dumps(str(k))}: {fmt(o[k], depth + 1)}" for k in sorted(o, key=str)
            ]
            return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
        if isinstance(o, (list, tuple)):
            if all(not isinstance(v, (Mapping, list, tuple)) for v in o):
                return json.dumps(list(o), allow_nan=False)
            return "[\n" + ",\n".join(pad + fmt(v, depth + 1) for v in o) + "\n" + " " * depth + "]"
        return json.dumps(o, allow_nan=False)

    return fmt(obj, 0) + "\n"


def dump_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` as deterministic JSON (:func:`to_json_text`) to ``path``.

    A plain write: the workflow stages write their outputs atomically by handing a temporary
    path (:func:`exonu.stages.runtime.atomic_output`).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(to_json_text(obj), encoding="utf-8")


def dump_workspace(ws: Workspace, path: str | os.PathLike[str]) -> None:
    """Write a workspace to ``path`` (deterministic JSON with sorted keys, :func:`dump_json`)."""
    dump_json(ws.to_dict(), path)
