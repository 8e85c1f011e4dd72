"""The registry of interaction models: everything a model needs outside its physics.

``MODELS[name]`` is a :class:`ModelInfo`: the parameter θ and its unit, the powers of the
excess polynomial, treatments, flavours, whether a mediator mass is needed, the typical value
and mass range (defaults of the CLI, the tables and the scans), and the labels of θ in plain
text, LaTeX and matplotlib mathtext, with the model's title and report category. Everything
else reads it: the config schema's model and treatment names (:func:`exonu.config.load_schema`),
the config checks, ``exonu rate --help``, the tables, figures and HEPData tables. Unit labels
are in :data:`UNITS`.

The excess over the Standard Model of every model is an exact polynomial Σ_p θ^p c_p(T) in its
parameter θ (docs/physics.md §C); ``powers`` lists the p per treatment. The sign of θ matters
exactly when an odd power appears.

Adding a model: one :class:`ModelInfo` with its cross-section function
(:class:`ExcessCrossSection`), registered by :func:`register_model` (see
``tests/test_model_registry.py``) or written into :data:`MODELS` with ``cross_section=``. The
models of the XMASS-I and Khan analyses have ``cross_section=None``: their coefficient spectra
are the flux-moment expansions of :func:`exonu.physics.signal_basis`; any other model's come
from its cross section evaluated on the neutrino-energy quadrature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from exonu.physics.errors import PhysicsError

__all__ = [
    "FLAVOUR_CHOICES",
    "MODELS",
    "NU_TOKEN",
    "UNITS",
    "ExcessCrossSection",
    "Labels",
    "ModelInfo",
    "UnitLabels",
    "get_model",
    "model_names",
    "register_model",
    "treatment_names",
    "unit_labels",
    "unregister_model",
]

#: Which neutrinos carry the new physics: "all" = flavour-universal (effective moment,
#: common charge, universal coupling); "e", "mu", "tau" = only that flavour.
FLAVOUR_CHOICES = ("all", "e", "mu", "tau")

#: The token of :attr:`Labels.mathtext` that names the neutrino; a figure of one flavour
#: replaces it by ``{\nu_e}``, ``{\nu_\mu}``, ``{\nu_\tau}``.
NU_TOKEN = r"{\nu}"


@dataclass(frozen=True)
class Labels:
    r"""The symbol of a model parameter in three notations.

    Attributes
    ----------
    text : str
        Plain (Unicode) text, e.g. ``"μ_ν"`` (Markdown tables, logs).
    latex : str
        LaTeX math-mode content without the ``$``, e.g. ``r"\mu_\nu"`` (LaTeX tables).
    mathtext : str
        matplotlib mathtext with the ``$``, e.g. ``r"$\mu_{\nu}$"`` (figures). A symbol that
        carries the neutrino writes it as :data:`NU_TOKEN`, which a figure of one flavour
        replaces; a symbol without it gets the flavour in parentheses.
    """

    text: str
    latex: str
    mathtext: str


@dataclass(frozen=True)
class UnitLabels:
    """A unit in the notations of the products (``""`` for a dimensionless parameter).

    Attributes
    ----------
    text, latex, mathtext : str
        Plain text, LaTeX math-mode content (no ``$``) and matplotlib mathtext (with ``$``).
    hepdata : str
        The ``units`` of a HEPData variable.
    """

    text: str
    latex: str
    mathtext: str
    hepdata: str


#: Labels of the units of the parameters, by the unit names of :attr:`ModelInfo.unit`.
UNITS: dict[str, UnitLabels] = {
    "": UnitLabels("", "", "", ""),
    "1": UnitLabels("", "", "", ""),
    "mu_B": UnitLabels("μ_B", r"\mu_B", r"$\mu_B$", "mu_B"),
    "e": UnitLabels("e", "e", r"$e$", "e"),
    "cm2": UnitLabels("cm²", r"\mathrm{cm}^2", r"cm$^2$", "cm^2"),
}


class ExcessCrossSection(Protocol):
    """Cross section of a registered model: its change of dσ/dT on a free electron.

    Called for each flavour that carries the new physics, with arrays that broadcast to the
    quadrature's shape (n recoil energies, m neutrino energies):

    Parameters
    ----------
    recoil_kev : numpy.ndarray
        Recoil energies T [keV], shape (n, 1).
    neutrino_mev : numpy.ndarray
        Neutrino energies E [MeV], shape (n, m).
    value : float
        The parameter θ in the model's unit.
    flavour : str
        ``"e"``, ``"mu"`` or ``"tau"``.
    g_v, g_a : numpy.ndarray
        The flavour's Standard-Model couplings at T, shape (n, 1) (for interference terms).
    mediator_mass_mev : float or None
        Mediator mass [MeV] of a model with ``needs_mass``.
    treatment : str or None
        The resolved treatment.

    Returns
    -------
    numpy.ndarray
        dσ/dT(θ) − dσ/dT(0) [cm²/keV], zero where the recoil is kinematically forbidden, a
        polynomial in θ with the model's ``powers``.
    """

    def __call__(
        self,
        recoil_kev: np.ndarray,
        neutrino_mev: np.ndarray,
        value: float,
        *,
        flavour: str,
        g_v: np.ndarray,
        g_a: np.ndarray,
        mediator_mass_mev: float | None,
        treatment: str | None,
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelInfo:
    """Description of one interaction model.

    Attributes
    ----------
    name : str
        Model name (``MODELS`` key; the ``model`` of config entries and results).
    parameter : str or None
        Name of the parameter θ (``None`` for the Standard Model).
    unit : str
        Unit of θ (``"mu_B"``, ``"e"``, ``"cm2"``, ``"1"`` for dimensionless couplings): a key
        of :data:`UNITS`.
    description : str
        One line, with the reference formula.
    powers_by_treatment : dict
        Treatment (``None`` if the model has none) → powers p of the excess polynomial.
    treatments : tuple of str
        Allowed treatments, the default first; empty if the model has none.
    needs_mass : bool
        Whether a mediator mass [MeV] is required.
    reference_value : float
        Typical value of θ: the default of ``exonu rate --param`` and the default ``scale`` of
        the release tables.
    mass_range_mev : tuple of float or None
        Mass range the model is meant for [MeV]: the default mediator-mass scan range
        suggested by the config checks and ``exonu rate --help`` (masses ≥ 0 are accepted).
    flavours : tuple of str
        Allowed ``flavour`` arguments.
    symbol : Labels
        The symbol of θ (tables, figures).
    title : str
        What the model is, for figures (matplotlib mathtext allowed),
        e.g. ``"neutrino magnetic moment"``.
    category : str
        The category of its products in the Snakemake report, e.g. ``"Magnetic moment"``.
    cross_section : ExcessCrossSection or None
        The change of the cross section, for a model added by :func:`register_model`;
        ``None`` for the built-in models (expanded analytically by
        :func:`exonu.physics.signal_basis`).
    """

    name: str
    parameter: str | None
    unit: str
    description: str
    powers_by_treatment: dict[str | None, tuple[int, ...]]
    treatments: tuple[str, ...] = ()
    needs_mass: bool = False
    reference_value: float = 0.0
    mass_range_mev: tuple[float, float] | None = None
    flavours: tuple[str, ...] = FLAVOUR_CHOICES
    symbol: Labels = Labels("", "", "")
    title: str = ""
    category: str = ""
    cross_section: ExcessCrossSection | None = field(default=None, compare=False, repr=False)

    @property
    def default_treatment(self) -> str | None:
        """Treatment used when none is given."""
        return self.treatments[0] if self.treatments else None

    def resolve_treatment(self, treatment: str | None) -> str | None:
        """Return the effective treatment, rejecting one the model does not have."""
        if treatment is None:
            return self.default_treatment
        if treatment not in self.treatments:
            allowed = ", ".join(self.treatments) if self.treatments else "none"
            raise PhysicsError(
                f"treatment: model {self.name!r} accepts {allowed}, got {treatment!r}"
            )
        return treatment

    def powers(self, treatment: str | None = None) -> tuple[int, ...]:
        """Powers of θ in the excess for a treatment (default treatment if ``None``)."""
        return self.powers_by_treatment[self.resolve_treatment(treatment)]

    def sign_matters(self, treatment: str | None = None) -> bool:
        """Whether the excess depends on the sign of θ (an odd power is present)."""
        return any(p % 2 for p in self.powers(treatment))

    def mass_scan_example(self) -> str:
        """A log-spaced ``masses_mev`` over :attr:`mass_range_mev` (one point per decade),
        as written in a config file; ``""`` for a model without a mediator."""
        if not self.needs_mass or self.mass_range_mev is None:
            return ""
        lo, hi = (float(np.log10(m)) for m in self.mass_range_mev)
        n = max(round(hi - lo) + 1, 2)
        return f"{{log10_min: {lo:g}, log10_max: {hi:g}, n: {n}}}"


#: Default mediator-mass scan range [MeV] of the light mediators (Khan Figs. 3-5 span it).
_MEDIATOR_RANGE = (1e-3, 1e3)

MODELS: dict[str, ModelInfo] = {
    "standard_model": ModelInfo(
        "standard_model",
        None,
        "",
        "SM weak scattering, docs/physics.md eq. (C1): no excess",
        {None: ()},
        title="Standard Model",
        category="Standard Model",
    ),
    "magnetic_moment": ModelInfo(
        "magnetic_moment",
        "mu_nu",
        "mu_B",
        "magnetic moment, dσ/dT = πα²μ²/m_e²(1/T − 1/E) (Khan-1T eq. 3)",
        {None: (2,)},
        reference_value=1e-10,
        symbol=Labels("μ_ν", r"\mu_\nu", r"$\mu_{\nu}$"),
        title="neutrino magnetic moment",
        category="Magnetic moment",
    ),
    "millicharge": ModelInfo(
        "millicharge",
        "q_nu",
        "e",
        "millicharge: full g_V shift −(√2πα/G_F) q/(m_eT) (Khan-1T eq. 4) or pure q² term",
        {"full": (1, 2), "pure": (2,)},
        treatments=("full", "pure"),
        reference_value=1.5e-12,
        symbol=Labels("q_ν", r"q_\nu", r"$q_{\nu}$"),
        title="neutrino millicharge",
        category="Millicharge",
    ),
    "charge_radius": ModelInfo(
        "charge_radius",
        "r2",
        "cm2",
        "charge radius, g_V shift (√2πα/G_F)⟨r²⟩/3 (Khan-1T eq. 4)",
        {None: (1, 2)},
        reference_value=1e-31,
        symbol=Labels("⟨r²⟩", r"\langle r^2\rangle", r"$\langle r^2_{\nu}\rangle$"),
        title="neutrino charge radius",
        category="Charge radius",
    ),
    "anapole": ModelInfo(
        "anapole",
        "a",
        "cm2",
        "anapole, g_V shift −2a(√2πα/G_F) (a = −⟨r²⟩_eff/6, docs/physics.md §C.3) or Khan's −a/18",
        {"giunti_studenikin": (1, 2), "khan_printed": (1, 2)},
        treatments=("giunti_studenikin", "khan_printed"),
        reference_value=1e-31,
        symbol=Labels("a", "a", r"$a_{\nu}$"),
        title="neutrino anapole moment",
        category="Anapole moment",
    ),
    "dark_photon_bl": ModelInfo(
        "dark_photon_bl",
        "g_bl",
        "1",
        "U(1)B−L boson, g_V shift g²/[√2G_F(2m_eT+M²)] (Bilmis et al. 2015; docs/physics.md §C.4)",
        {None: (2, 4)},
        needs_mass=True,
        reference_value=1e-6,
        mass_range_mev=(1e-3, 1e3),
        symbol=Labels("g_B−L", r"g_{B-L}", r"$g_{B-L}$"),
        title=r"U(1)$_{B-L}$ dark photon",
        category="Dark photon (B-L)",
    ),
    "vector": ModelInfo(
        "vector",
        "g",
        "1",
        "light vector mediator, g_V shift g²/[√2G_F(2m_eT+m²)] (Khan-1T eq. 5)",
        {None: (2, 4)},
        needs_mass=True,
        reference_value=3.5e-7,
        mass_range_mev=_MEDIATOR_RANGE,
        symbol=Labels("g_V", "g_V", r"$g$"),
        title="light vector mediator",
        category="Vector mediator",
    ),
    "axial_vector": ModelInfo(
        "axial_vector",
        "g",
        "1",
        "light axial-vector mediator, g_A shift g²/[√2G_F(2m_eT+m²)] (Khan-1T eq. 5)",
        {None: (2, 4)},
        needs_mass=True,
        reference_value=3.5e-7,
        mass_range_mev=_MEDIATOR_RANGE,
        symbol=Labels("g_A", "g_A", r"$g$"),
        title="light axial-vector mediator",
        category="Axial-vector mediator",
    ),
    "scalar": ModelInfo(
        "scalar",
        "g",
        "1",
        "light scalar mediator, incoherent g⁴m_e²T/[4π(2m_eT+m²)²E²] (Khan-1T eq. 6)",
        {None: (4,)},
        needs_mass=True,
        reference_value=1e-6,
        mass_range_mev=_MEDIATOR_RANGE,
        symbol=Labels("g_S", "g_S", r"$g$"),
        title="light scalar mediator",
        category="Scalar mediator",
    ),
    "pseudoscalar": ModelInfo(
        "pseudoscalar",
        "g",
        "1",
        "light pseudoscalar mediator, incoherent g⁴m_eT²/[8π(2m_eT+m²)²E²] (Khan-1T eq. 7)",
        {None: (4,)},
        needs_mass=True,
        reference_value=2e-6,
        mass_range_mev=_MEDIATOR_RANGE,
        symbol=Labels("g_P", "g_P", r"$g$"),
        title="light pseudoscalar mediator",
        category="Pseudoscalar mediator",
    ),
}

#: The models of the package (:func:`unregister_model` leaves them alone).
_BUILTIN = frozenset(MODELS)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def get_model(model: str) -> ModelInfo:
    """Registry entry of a model, or :class:`PhysicsError` listing the known names."""
    try:
        return MODELS[model]
    except (KeyError, TypeError):
        raise PhysicsError(f"model: expected one of {', '.join(MODELS)}, got {model!r}") from None


def model_names() -> list[str]:
    """Names of the models with a parameter (what a signal, scan or table may name), in
    registry order: the config schema's model names."""
    return [name for name, info in MODELS.items() if info.parameter is not None]


def treatment_names() -> list[str]:
    """Every treatment of a registered model, in registry order (the schema's treatments)."""
    return list(dict.fromkeys(t for info in MODELS.values() for t in info.treatments))


def unit_labels(unit: str) -> UnitLabels:
    """Labels of a unit of :data:`UNITS`; an unknown unit is written as it is."""
    return UNITS.get(unit) or UnitLabels(unit, unit, unit, unit)


def _check_new_model(info: ModelInfo) -> None:
    what = f"register_model({info.name!r})"
    if not isinstance(info.name, str) or not _NAME.match(info.name):
        raise PhysicsError(f"register_model: name {info.name!r} must match {_NAME.pattern}")
    if info.name in MODELS:
        raise PhysicsError(f"{what}: a model of that name exists")
    if not info.parameter:
        raise PhysicsError(f"{what}: a model needs a parameter name")
    if info.cross_section is None or not callable(info.cross_section):
        raise PhysicsError(f"{what}: a model needs its cross-section function")
    if info.unit not in UNITS:
        raise PhysicsError(
            f"{what}: unit {info.unit!r} has no labels; give unit=UnitLabels(...) "
            f"(known units: {', '.join(repr(u) for u in UNITS)})"
        )
    expected = set(info.treatments) or {None}
    if set(info.powers_by_treatment) != expected:
        raise PhysicsError(
            f"{what}: powers_by_treatment keys {sorted(map(str, info.powers_by_treatment))} "
            f"must be the treatments {sorted(map(str, expected))}"
        )
    for powers in info.powers_by_treatment.values():
        if not powers or any(not isinstance(p, int) or p < 1 for p in powers):
            raise PhysicsError(f"{what}: powers {powers!r} must be integers >= 1")
        if len(set(powers)) != len(powers):
            raise PhysicsError(f"{what}: powers {powers!r} repeat a power")
    if not set(info.flavours) <= set(FLAVOUR_CHOICES) or not info.flavours:
        raise PhysicsError(f"{what}: flavours {info.flavours!r} must be among {FLAVOUR_CHOICES}")
    if info.needs_mass and info.mass_range_mev is not None:
        lo, hi = info.mass_range_mev
        if not 0 < lo < hi:
            raise PhysicsError(f"{what}: mass_range_mev {info.mass_range_mev!r}, need 0 < lo < hi")


def register_model(
    info: ModelInfo,
    cross_section: ExcessCrossSection | None = None,
    *,
    unit: UnitLabels | None = None,
) -> ModelInfo:
    """Add a model to :data:`MODELS`: its entry and its cross-section function.

    After this call the model is known everywhere in this process: ``exonu rate``, the config
    schema, signals and scans, workspaces and limits, tables and figures.

    Parameters
    ----------
    info : ModelInfo
        The entry (labels, powers, mediator, defaults); its ``cross_section`` may be given
        here or as the next argument.
    cross_section : ExcessCrossSection, optional
        The change of dσ/dT with the parameter (:class:`ExcessCrossSection`).
    unit : UnitLabels, optional
        Labels of ``info.unit`` if it is not in :data:`UNITS` yet.

    Returns
    -------
    ModelInfo
        The registered entry.

    Raises
    ------
    PhysicsError
        A name that exists, no parameter or cross section, powers that do not match the
        treatments, an unknown unit without labels.
    """
    if cross_section is not None:
        info = replace(info, cross_section=cross_section)
    if unit is not None and info.unit not in UNITS:
        UNITS[info.unit] = unit
    try:
        _check_new_model(info)
    except PhysicsError:
        if unit is not None and UNITS.get(info.unit) is unit:
            del UNITS[info.unit]
        raise
    MODELS[info.name] = info
    return info


def unregister_model(name: str) -> None:
    """Remove a model added by :func:`register_model` (the built-in models stay)."""
    if name in _BUILTIN:
        raise PhysicsError(f"unregister_model: {name!r} is a built-in model")
    if name not in MODELS:
        raise PhysicsError(f"unregister_model: no registered model {name!r}")
    del MODELS[name]
