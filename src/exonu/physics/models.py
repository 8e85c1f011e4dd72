"""Registry of the interaction models: parameter, unit, polynomial powers, flavours.

``MODELS[name]`` is a :class:`ModelInfo`. The excess over the Standard Model of every
model is an exact polynomial Σ_p θ^p c_p(T) in its parameter θ (REFERENCE.md §C); ``powers``
lists the p per treatment. The sign of θ matters exactly when an odd power appears.
"""

from __future__ import annotations

from dataclasses import dataclass

from exonu.physics.errors import PhysicsError

__all__ = ["FLAVOUR_CHOICES", "MODELS", "ModelInfo", "get_model"]

#: Which neutrinos carry the new physics: "all" = flavour-universal (effective moment,
#: common charge, universal coupling); "e", "mu", "tau" = only that flavour.
FLAVOUR_CHOICES = ("all", "e", "mu", "tau")


@dataclass(frozen=True)
class ModelInfo:
    """Description of one interaction model.

    Attributes
    ----------
    name : str
        Model name (``MODELS`` key).
    parameter : str or None
        Name of the parameter θ (``None`` for the Standard Model).
    unit : str
        Unit of θ (``"mu_B"``, ``"e"``, ``"cm2"``, ``"1"`` for dimensionless couplings).
    description : str
        One line, with the reference formula.
    powers_by_treatment : dict
        Treatment (``None`` if the model has none) → powers p of the excess polynomial.
    treatments : tuple of str
        Allowed treatments, the default first; empty if the model has none.
    needs_mass : bool
        Whether a mediator mass [MeV] is required.
    reference_value : float
        Typical value of θ (e.g. for plots and the CLI default).
    mass_range_mev : tuple of float or None
        Mass range the model is meant for [MeV] (informative; masses ≥ 0 are accepted).
    flavours : tuple of str
        Allowed ``flavour`` arguments.
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


_MEDIATOR_RANGE = (0.0, 1e3)

MODELS: dict[str, ModelInfo] = {
    "standard_model": ModelInfo(
        "standard_model",
        None,
        "",
        "SM weak scattering, REFERENCE.md eq. (C1): no excess",
        {None: ()},
    ),
    "magnetic_moment": ModelInfo(
        "magnetic_moment",
        "mu_nu",
        "mu_B",
        "magnetic moment, dσ/dT = πα²μ²/m_e²(1/T − 1/E) (Khan-1T eq. 3)",
        {None: (2,)},
        reference_value=1e-10,
    ),
    "millicharge": ModelInfo(
        "millicharge",
        "q_nu",
        "e",
        "millicharge: full g_V shift −(√2πα/G_F) q/(m_eT) (Khan-1T eq. 4) or pure q² term",
        {"full": (1, 2), "pure": (2,)},
        treatments=("full", "pure"),
        reference_value=1.5e-12,
    ),
    "charge_radius": ModelInfo(
        "charge_radius",
        "r2",
        "cm2",
        "charge radius, g_V shift (√2πα/G_F)⟨r²⟩/3 (Khan-1T eq. 4)",
        {None: (1, 2)},
        reference_value=1e-31,
    ),
    "anapole": ModelInfo(
        "anapole",
        "a",
        "cm2",
        "anapole, g_V shift −2a(√2πα/G_F) (a = −⟨r²⟩_eff/6, REFERENCE.md §C.3) or Khan's −a/18",
        {"giunti_studenikin": (1, 2), "khan_printed": (1, 2)},
        treatments=("giunti_studenikin", "khan_printed"),
        reference_value=1e-31,
    ),
    "dark_photon_bl": ModelInfo(
        "dark_photon_bl",
        "g_bl",
        "1",
        "U(1)B−L boson, g_V shift g²/[√2G_F(2m_eT+M²)] (Bilmis et al. 2015; REFERENCE.md §C.4)",
        {None: (2, 4)},
        needs_mass=True,
        reference_value=1e-6,
        mass_range_mev=(1e-3, 1e3),
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
    ),
}


def get_model(model: str) -> ModelInfo:
    """Registry entry of a model, or :class:`PhysicsError` listing the known names."""
    try:
        return MODELS[model]
    except (KeyError, TypeError):
        raise PhysicsError(f"model: expected one of {', '.join(MODELS)}, got {model!r}") from None
