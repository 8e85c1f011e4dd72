"""Differential electron-recoil rates dN/dT in xenon [events/(tonne·year·keV)].

XMASS eq. (2) / Khan-1T eq. (8) before detector response:

    dN/dT = N_e(T) · t · Σ_src Φ_src ∫_{E_min(T)} dE λ_src(E) Σ_α P_α(E) dσ_α/dT(E, T),

with N_e(T) the effective electron targets per tonne of the atomic model
(:func:`exonu.physics.atomic.electron_targets_per_tonne`) and t one year (365.25 d).

Two independent code paths compute it:

* :func:`standard_model_rate` and :func:`signal_basis` expand every cross section in the
  moments M_αk(T) = ⟨E⁻ᵏ⟩ of the flux (:mod:`exonu.physics.kernel`) and return the exotic
  excess as an exact polynomial in the model parameter, Σ_p θ^p c_p(T) (interference with the
  weak amplitude included, so c_p may be negative);
* :func:`differential_rate` evaluates the cross-section formulas of
  :mod:`exonu.physics.cross_sections` at every neutrino-energy node for given parameter
  values (SM + exotic, all flavours).

``flavour`` names the neutrinos that carry the new physics: ``"all"`` (flavour-universal:
effective moment, common charge, universal coupling) or ``"e"``, ``"mu"``, ``"tau"`` (only that
flavour). In :func:`standard_model_rate` it selects the flavour's share of the SM rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from exonu.physics.atomic import electron_targets_per_tonne, photoabsorption_cross_section_cm2
from exonu.physics.constants import (
    ALPHA,
    G_F_MEV2,
    HBARC2_MEV2_CM2,
    M_E_MEV,
    PHOTON_GV_SCALE_MEV2,
    SECONDS_PER_YEAR,
    XENON_ATOMS_PER_TONNE,
)
from exonu.physics.cross_sections import (
    ANAPOLE_CONVENTIONS,
    epa_millicharge_cross_section,
    magnetic_moment_cross_section,
    mediator_coupling_shift,
    millicharge_pure_cross_section,
    photon_gv_shift,
    pseudoscalar_cross_section,
    scalar_cross_section,
    standard_model_couplings,
    weak_cross_section,
)
from exonu.physics.errors import PhysicsError
from exonu.physics.kernel import NeutrinoQuadrature, check_energies, neutrino_quadrature
from exonu.physics.models import FLAVOUR_CHOICES, ModelInfo, get_model
from exonu.physics.oscillation import FLAVOURS
from exonu.physics.settings import PhysicsSettings

__all__ = [
    "RATE_UNIT",
    "SignalBasis",
    "differential_rate",
    "signal_basis",
    "standard_model_rate",
    "standard_model_rate_by_source",
]

#: Unit of every rate returned by this module.
RATE_UNIT = "events/(tonne*year*keV)"

#: G_F² m_e/(2π) of eq. (C1), converted from MeV⁻³ to cm²/keV.
_C1_PREFACTOR = G_F_MEV2**2 * M_E_MEV / (2.0 * math.pi) * HBARC2_MEV2_CM2 * 1e-3
#: MeV⁻³ → cm²/keV.
_TO_CM2_PER_KEV = HBARC2_MEV2_CM2 * 1e-3
_DEFAULT_SETTINGS = PhysicsSettings()


@dataclass(frozen=True, eq=False)
class SignalBasis:
    """Exotic excess over the SM as an exact polynomial in the model parameter.

    excess(θ) = Σ_i θ^powers[i] · coefficients[i]  [events/(tonne·year·keV)], θ in ``unit``.

    Attributes
    ----------
    model, parameter, unit : str
        Model name, parameter name and unit (see :data:`exonu.physics.MODELS`).
    flavour : str
        ``"all"``, ``"e"``, ``"mu"`` or ``"tau"``: the neutrinos carrying the new physics.
    mediator_mass_mev : float or None
        Mediator mass [MeV] for mediator models.
    treatment : str or None
        Model treatment (millicharge ``full``/``pure``, anapole normalisation).
    energy_kev : numpy.ndarray
        Recoil energies T [keV], shape (n,).
    powers : tuple of int
        Powers of θ.
    coefficients : numpy.ndarray
        Shape (len(powers), n): events/(tonne·year·keV) per unit θ^power.
    """

    model: str
    parameter: str
    unit: str
    flavour: str
    mediator_mass_mev: float | None
    treatment: str | None
    energy_kev: np.ndarray
    powers: tuple[int, ...]
    coefficients: np.ndarray

    def excess(self, value: float | np.ndarray) -> np.ndarray:
        """Excess rate Σ_p value^p c_p [events/(tonne·year·keV)].

        Parameters
        ----------
        value : float or array_like
            Parameter value(s) in :attr:`unit`; an array of shape (m,) gives shape (m, n).
        """
        theta = np.asarray(value, dtype=float)
        result = np.zeros(theta.shape + self.energy_kev.shape)
        for power, coefficient in zip(self.powers, self.coefficients, strict=True):
            result = result + np.multiply.outer(theta**power, coefficient)
        return result

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable representation (lists instead of arrays)."""
        return {
            "model": self.model,
            "parameter": self.parameter,
            "unit": self.unit,
            "flavour": self.flavour,
            "mediator_mass_mev": self.mediator_mass_mev,
            "treatment": self.treatment,
            "energy_kev": self.energy_kev.tolist(),
            "powers": list(self.powers),
            "coefficients": self.coefficients.tolist(),
            "rate_unit": RATE_UNIT,
        }


def _carriers(flavour: str) -> tuple[int, ...]:
    if flavour == "all":
        return (0, 1, 2)
    if flavour in FLAVOURS:
        return (FLAVOURS.index(flavour),)
    raise PhysicsError(f"flavour: expected one of {', '.join(FLAVOUR_CHOICES)}, got {flavour!r}")


def _check_settings(settings: object) -> PhysicsSettings:
    if not isinstance(settings, PhysicsSettings):
        raise PhysicsError(
            f"settings: expected a PhysicsSettings, got {type(settings).__name__} "
            "(use PhysicsSettings.from_mapping for a dict)"
        )
    return settings


def _sm_left_right(
    flavour_index: int, energy_kev: np.ndarray, settings: PhysicsSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(g_V + g_A, g_V − g_A) = (2g_L, 2g_R) of the SM for one flavour, shape (n,)."""
    g_v, g_a = _sm_couplings(flavour_index, energy_kev, settings)
    return g_v + g_a, g_v - g_a


def _sm_couplings(
    flavour_index: int, energy_kev: np.ndarray, settings: PhysicsSettings
) -> tuple[np.ndarray, np.ndarray]:
    return standard_model_couplings(
        FLAVOURS[flavour_index],
        energy_kev,
        settings.sin2_theta_w,
        settings.radiative_corrections,
        settings.bks_rho,
        settings.bks_sin2_theta_w,
    )


def _exposure(energy_kev: np.ndarray, settings: PhysicsSettings) -> np.ndarray:
    """Electron targets per tonne × seconds per year."""
    return electron_targets_per_tonne(energy_kev, settings) * SECONDS_PER_YEAR


def _flux_averages(
    quadrature: NeutrinoQuadrature, flavour_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flux averages of the three E-dependent factors of (C1): 1, (1 − T/E)², m_eT/E²."""
    t = quadrature.energy_kev * 1e-3
    m0, m1, m2 = quadrature.moments[flavour_index]
    return m0, m0 - 2.0 * t * m1 + t * t * m2, M_E_MEV * t * m2


def _c1_expansion(
    left: np.ndarray,
    right: np.ndarray,
    d_left: np.ndarray,
    d_right: np.ndarray,
    averages: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Linear and quadratic terms of (C1) under L → L + x·dL, R → R + x·dR (L, R = g_V ± g_A)."""
    a0, a1, a2 = averages
    linear = (
        2.0 * left * d_left * a0
        + 2.0 * right * d_right * a1
        - (left * d_right + right * d_left) * a2
    )
    quadratic = d_left * d_left * a0 + d_right * d_right * a1 - d_left * d_right * a2
    return _C1_PREFACTOR * linear, _C1_PREFACTOR * quadratic


def standard_model_rate(
    energy_kev: np.ndarray | float,
    settings: PhysicsSettings = _DEFAULT_SETTINGS,
    flavour: str = "all",
) -> np.ndarray:
    """Standard-Model solar-neutrino electron-recoil rate in xenon.

    dN/dT of XMASS eq. (2) with the weak cross section (C1) of docs/physics.md §C.1 (ν_e NC+CC,
    ν_μ,τ NC; tree level with ``settings.sin2_theta_w`` or BKS radiative corrections).
    With ``atomic_model="epa"`` the SM uses the stepping approximation.

    Parameters
    ----------
    energy_kev : array_like
        Recoil energies T [keV] (> 0), scalar or 1-D.
    settings : PhysicsSettings
        Physics choices.
    flavour : {"all", "e", "mu", "tau"}
        ``"all"``: total; otherwise that flavour's share only.

    Returns
    -------
    numpy.ndarray
        Rate [events/(tonne·year·keV)], shape (n,).
    """
    settings = _check_settings(settings)
    energies = check_energies(energy_kev)
    quadrature = neutrino_quadrature(energies, settings)
    total = np.zeros(energies.shape)
    for index in _carriers(flavour):
        left, right = _sm_left_right(index, energies, settings)
        a0, a1, a2 = _flux_averages(quadrature, index)
        total += _C1_PREFACTOR * (left * left * a0 + right * right * a1 - left * right * a2)
    return total * _exposure(energies, settings)


def standard_model_rate_by_source(
    energy_kev: np.ndarray | float,
    settings: PhysicsSettings = _DEFAULT_SETTINGS,
    flavour: str = "all",
) -> dict[str, np.ndarray]:
    """SM rate of each solar source separately (for flux systematics), same units as
    :func:`standard_model_rate`; the values add up to the total."""
    settings = _check_settings(settings)
    return {
        source: standard_model_rate(energy_kev, replace(settings, sources=(source,)), flavour)
        for source in settings.source_names
    }


def _check_model_arguments(
    model: str,
    settings: PhysicsSettings,
    flavour: str,
    mediator_mass_mev: float | None,
    treatment: str | None,
) -> tuple[ModelInfo, str | None, float | None]:
    info = get_model(model)
    if flavour not in info.flavours:
        raise PhysicsError(
            f"flavour: model {model!r} accepts {', '.join(info.flavours)}, got {flavour!r}"
        )
    resolved = info.resolve_treatment(treatment)
    if info.needs_mass:
        if mediator_mass_mev is None:
            raise PhysicsError(f"mediator_mass_mev: model {model!r} needs a mediator mass in MeV")
        try:
            mass = float(mediator_mass_mev)
        except (TypeError, ValueError):
            raise PhysicsError(
                f"mediator_mass_mev: expected a number of MeV, got {mediator_mass_mev!r}"
            ) from None
        if not (math.isfinite(mass) and mass >= 0.0):
            raise PhysicsError(
                f"mediator_mass_mev: expected a finite mass >= 0 MeV, got {mediator_mass_mev!r}"
            )
    else:
        if mediator_mass_mev is not None:
            raise PhysicsError(
                f"mediator_mass_mev: model {model!r} has no mediator, got {mediator_mass_mev!r}"
            )
        mass = None
    if settings.atomic_model == "epa" and model not in ("standard_model", "millicharge"):
        raise PhysicsError(
            f"atomic_model: 'epa' applies to the millicharge only, not to model {model!r} "
            "(use 'stepping')"
        )
    return info, resolved, mass


def _photon_shift_per_unit(model: str, treatment: str | None, energy_kev: np.ndarray) -> np.ndarray:
    """δg_V per unit parameter for the photon-exchange models (docs/physics.md §C.3)."""
    t = energy_kev * 1e-3
    if model == "millicharge":
        return -PHOTON_GV_SCALE_MEV2 / (M_E_MEV * t)
    per_cm2 = PHOTON_GV_SCALE_MEV2 / HBARC2_MEV2_CM2
    if model == "charge_radius":
        return np.full(t.shape, per_cm2 / 3.0)
    assert treatment is not None
    return np.full(t.shape, -ANAPOLE_CONVENTIONS[treatment] * per_cm2)


#: Lowest energy [keV] of the xraydb (Elam) photoabsorption data used by the EPA.
EPA_MIN_KEV = 0.1


def _epa_selection(energies: np.ndarray, settings: PhysicsSettings) -> np.ndarray:
    """Energies where the EPA is evaluated: 0.1 keV (photoabsorption data) to epa_max_kev."""
    return (energies >= EPA_MIN_KEV) & (energies <= settings.epa_max_kev)


def _epa_rate_per_q2(
    energies: np.ndarray, settings: PhysicsSettings, carriers: tuple[int, ...]
) -> np.ndarray:
    """EPA millicharge rate per q² on the selected energies (docs/physics.md §D.3), per atom."""
    quadrature = neutrino_quadrature(energies, settings, lower="atom")
    sigma_gamma = photoabsorption_cross_section_cm2(energies)[:, None]
    cross = epa_millicharge_cross_section(
        energies[:, None], quadrature.nodes_mev, 1.0, sigma_gamma, settings.neutrino_mass_ev
    )
    total = sum(quadrature.integrate(index, cross) for index in carriers)
    return total * XENON_ATOMS_PER_TONNE * SECONDS_PER_YEAR


def _registered_cross_section(
    info: ModelInfo,
    index: int,
    energies: np.ndarray,
    nodes: np.ndarray,
    value: float,
    settings: PhysicsSettings,
    mass: float | None,
    treatment: str | None,
) -> np.ndarray:
    """The change of dσ/dT of a model with its own ``cross_section`` (:class:`ModelInfo`,
    e.g. added by :func:`exonu.physics.register_model`) for flavour ``index`` on the quadrature
    nodes, shape (n, m) [cm²/keV]."""
    assert info.cross_section is not None
    g_v, g_a = _sm_couplings(index, energies, settings)
    return np.asarray(
        info.cross_section(
            energies[:, None],
            nodes,
            value,
            flavour=FLAVOURS[index],
            g_v=g_v[:, None],
            g_a=g_a[:, None],
            mediator_mass_mev=mass,
            treatment=treatment,
        ),
        dtype=float,
    )


def _registered_coefficients(
    info: ModelInfo,
    powers: tuple[int, ...],
    energies: np.ndarray,
    settings: PhysicsSettings,
    quadrature: NeutrinoQuadrature,
    carriers: tuple[int, ...],
    mass: float | None,
    treatment: str | None,
) -> dict[int, np.ndarray]:
    """Coefficient spectra c_p(T) of a model with its own ``cross_section``, per unit θ^p,
    before the exposure.

    The flux-averaged change of the cross section is a polynomial in θ with the model's
    powers; it is evaluated at θ_j = j·θ_ref (j = 1 … number of powers, θ_ref the model's
    reference value, so that the terms are of comparable size) and the coefficients solve
    the Vandermonde system Σ_p (θ_j/θ_ref)^p d_p = excess(θ_j), c_p = d_p/θ_ref^p.
    """
    ref = abs(info.reference_value) or 1.0
    steps = np.arange(1, len(powers) + 1, dtype=float)
    vander = steps[:, None] ** np.asarray(powers, dtype=float)[None, :]
    samples = np.zeros((len(powers), energies.size))
    for index in carriers:
        for j, step in enumerate(steps):
            cross = _registered_cross_section(
                info, index, energies, quadrature.nodes_mev, step * ref, settings, mass, treatment
            )
            samples[j] += quadrature.integrate(index, cross)
    scaled = np.linalg.solve(vander, samples)
    return {p: scaled[k] / ref**p for k, p in enumerate(powers)}


def signal_basis(
    model: str,
    energy_kev: np.ndarray | float,
    settings: PhysicsSettings = _DEFAULT_SETTINGS,
    *,
    flavour: str = "all",
    mediator_mass_mev: float | None = None,
    treatment: str | None = None,
) -> SignalBasis:
    """Coefficient spectra of the exotic excess, exact polynomial in the model parameter.

    Uses the flux moments of :mod:`exonu.physics.kernel`; per model (docs/physics.md §C):

    * ``magnetic_moment`` (μ_ν [μ_B]): μ² (πα²/m_e²)⟨1/T − 1/E⟩ (Khan-1T eq. 3);
    * ``millicharge`` (q_ν [e]): ``full`` = q·interference + q²·pure from the g_V shift
      −(√2πα/G_F) q/(m_eT) in (C1) (Khan-1T eq. 4); ``pure`` = the q² term only (XMASS);
      with ``atomic_model="epa"`` the q² term is max(EPA, stepping) for
      0.1 keV ≤ T ≤ ``epa_max_kev``;
    * ``charge_radius`` (⟨r²⟩ [cm²]) and ``anapole`` (a [cm²]): g_V shifts (Khan-1T eq. 4,
      normalisation docs/physics.md §C.3), powers (1, 2);
    * ``dark_photon_bl``, ``vector`` (g): g_V shift g²/[√2G_F(2m_eT + M²)], powers (2, 4)
      (docs/physics.md §C.4; Khan-1T eq. 5); ``axial_vector``: the same shift of g_A;
    * ``scalar``, ``pseudoscalar`` (g): incoherent g⁴ terms (Khan-1T eqs. 6–7);
    * a model with its own ``cross_section`` (e.g. added by
      :func:`exonu.physics.register_model`): that cross section on the neutrino-energy
      quadrature, expanded in its powers (:func:`_registered_coefficients`).

    Parameters
    ----------
    model : str
        A key of :data:`exonu.physics.MODELS`.
    energy_kev : array_like
        Recoil energies T [keV].
    settings : PhysicsSettings
        Physics choices.
    flavour : {"all", "e", "mu", "tau"}
        Neutrinos carrying the new physics.
    mediator_mass_mev : float, optional
        Mediator mass [MeV] (≥ 0), required by the mediator models and rejected otherwise.
    treatment : str, optional
        Model treatment (default: the model's first, see ``MODELS[model].treatments``).

    Returns
    -------
    SignalBasis
        Coefficients in events/(tonne·year·keV) per unit parameter^power.
    """
    settings = _check_settings(settings)
    info, treatment, mass = _check_model_arguments(
        model, settings, flavour, mediator_mass_mev, treatment
    )
    energies = check_energies(energy_kev)
    powers = info.powers(treatment)
    carriers = _carriers(flavour)
    quadrature = neutrino_quadrature(energies, settings)
    t = energies * 1e-3
    coefficients = {p: np.zeros(energies.shape) for p in powers}
    mediator_k = None if mass is None else 2.0 * M_E_MEV * t + mass * mass
    registered = info.cross_section is not None
    if registered and powers:
        coefficients = _registered_coefficients(
            info, powers, energies, settings, quadrature, carriers, mass, treatment
        )

    # the built-in models: flux-moment expansions of their cross sections
    for index in carriers if powers and not registered else ():
        m0, m1, m2 = quadrature.moments[index]
        if model == "magnetic_moment":
            coefficients[2] += math.pi * ALPHA**2 / M_E_MEV**2 * (m0 / t - m1) * _TO_CM2_PER_KEV
            continue
        if model == "scalar":
            assert mediator_k is not None
            coefficients[4] += (
                M_E_MEV**2 * t / (4.0 * math.pi * mediator_k**2) * m2 * _TO_CM2_PER_KEV
            )
            continue
        if model == "pseudoscalar":
            assert mediator_k is not None
            coefficients[4] += (
                M_E_MEV * t * t / (8.0 * math.pi * mediator_k**2) * m2 * _TO_CM2_PER_KEV
            )
            continue
        left, right = _sm_left_right(index, energies, settings)
        averages = _flux_averages(quadrature, index)
        if model in ("millicharge", "charge_radius", "anapole"):
            shift = _photon_shift_per_unit(model, treatment, energies)
            linear, quadratic = _c1_expansion(left, right, shift, shift, averages)
            low, high = 1, 2
        else:  # vector-like mediators: the shift is per g², powers (2, 4)
            assert mediator_k is not None
            shift = 1.0 / (math.sqrt(2.0) * G_F_MEV2 * mediator_k)
            axial_sign = -1.0 if model == "axial_vector" else 1.0
            linear, quadratic = _c1_expansion(left, right, shift, axial_sign * shift, averages)
            low, high = 2, 4
        if low in coefficients:
            coefficients[low] += linear
        coefficients[high] += quadratic

    exposure = _exposure(energies, settings)
    for power in coefficients:
        coefficients[power] *= exposure
    if model == "millicharge" and settings.atomic_model == "epa":
        selected = _epa_selection(energies, settings)
        if np.any(selected):
            epa = _epa_rate_per_q2(energies[selected], settings, carriers)
            coefficients[2][selected] = np.maximum(coefficients[2][selected], epa)

    return SignalBasis(
        model=model,
        parameter=info.parameter or "",
        unit=info.unit,
        flavour=flavour,
        mediator_mass_mev=mass,
        treatment=treatment,
        energy_kev=energies.copy(),
        powers=powers,
        coefficients=np.array([coefficients[p] for p in powers]).reshape(
            len(powers), energies.size
        ),
    )


def _parameter_value(info: ModelInfo, params: Mapping[str, float]) -> float:
    if not isinstance(params, Mapping):
        raise PhysicsError(f"params: expected a mapping {{name: value}}, got {params!r}")
    expected = set() if info.parameter is None else {info.parameter}
    unknown = set(params) - expected
    if unknown or (expected and info.parameter not in params):
        raise PhysicsError(
            f"params: model {info.name!r} takes "
            f"{info.parameter or 'no parameter'}, got {sorted(params)!r}"
        )
    if info.parameter is None:
        return 0.0
    try:
        value = float(params[info.parameter])
    except (TypeError, ValueError):
        raise PhysicsError(
            f"params: {info.parameter} must be a number ({info.unit}), "
            f"got {params[info.parameter]!r}"
        ) from None
    if not math.isfinite(value):
        raise PhysicsError(f"params: {info.parameter} must be finite, got {value!r}")
    return value


def differential_rate(
    model: str,
    energy_kev: np.ndarray | float,
    params: Mapping[str, float],
    settings: PhysicsSettings = _DEFAULT_SETTINGS,
    flavour: str = "all",
    *,
    mediator_mass_mev: float | None = None,
    treatment: str | None = None,
) -> np.ndarray:
    """Total rate (SM + exotic, all flavours) computed directly from the cross sections.

    Evaluates the cross-section formulas of :mod:`exonu.physics.cross_sections` with the given
    parameter at every neutrino-energy node (no polynomial expansion). Only ``flavour``
    carries the new physics, the other flavours contribute their SM rate, so
    ``differential_rate(...) − standard_model_rate(energy_kev, settings)`` is the excess, equal
    to ``signal_basis(...).excess(value)``.

    Parameters
    ----------
    model : str
        A key of :data:`exonu.physics.MODELS`.
    energy_kev : array_like
        Recoil energies T [keV].
    params : mapping
        ``{parameter: value}`` with the model's parameter (``{}`` for the SM), in its unit.
    settings : PhysicsSettings
        Physics choices.
    flavour : {"all", "e", "mu", "tau"}
        Neutrinos carrying the new physics.
    mediator_mass_mev : float, optional
        Mediator mass [MeV].
    treatment : str, optional
        Model treatment.

    Returns
    -------
    numpy.ndarray
        Rate [events/(tonne·year·keV)], shape (n,).
    """
    settings = _check_settings(settings)
    info, treatment, mass = _check_model_arguments(
        model, settings, flavour, mediator_mass_mev, treatment
    )
    value = _parameter_value(info, params)
    energies = check_energies(energy_kev)
    quadrature = neutrino_quadrature(energies, settings)
    carriers = _carriers(flavour) if info.parameter is not None else ()
    t_col = energies[:, None]
    nodes = quadrature.nodes_mev
    total = np.zeros(energies.shape)
    pure_fea = np.zeros(energies.shape)
    for index in range(3):
        g_v, g_a = _sm_couplings(index, energies, settings)
        extra = 0.0
        if index in carriers:
            if info.cross_section is not None:
                extra = _registered_cross_section(
                    info, index, energies, nodes, value, settings, mass, treatment
                )
            elif model == "magnetic_moment":
                extra = magnetic_moment_cross_section(t_col, nodes, value)
            elif model == "millicharge":
                pure = millicharge_pure_cross_section(t_col, nodes, value)
                pure_fea += quadrature.integrate(index, pure)
                if treatment == "full":
                    g_v = g_v + photon_gv_shift(energies, q_nu=value)
                else:
                    extra = pure
            elif model == "charge_radius":
                g_v = g_v + photon_gv_shift(energies, r2_cm2=value)
            elif model == "anapole":
                assert treatment is not None
                g_v = g_v + photon_gv_shift(
                    energies, anapole_cm2=value, anapole_convention=treatment
                )
            elif model in ("dark_photon_bl", "vector"):
                assert mass is not None
                g_v = g_v + mediator_coupling_shift(energies, value, mass)
            elif model == "axial_vector":
                assert mass is not None
                g_a = g_a + mediator_coupling_shift(energies, value, mass)
            elif model == "scalar":
                assert mass is not None
                extra = scalar_cross_section(t_col, nodes, value, mass)
            elif model == "pseudoscalar":
                assert mass is not None
                extra = pseudoscalar_cross_section(t_col, nodes, value, mass)
        cross = weak_cross_section(t_col, nodes, g_v[:, None], g_a[:, None]) + extra
        total += quadrature.integrate(index, cross)
    exposure = _exposure(energies, settings)
    rate = total * exposure
    if model == "millicharge" and settings.atomic_model == "epa" and carriers:
        selected = _epa_selection(energies, settings)
        if np.any(selected):
            epa = _epa_rate_per_q2(energies[selected], settings, carriers) * value**2
            fea = (pure_fea * exposure)[selected]
            rate[selected] += np.maximum(epa, fea) - fea
    return rate
