"""Published numbers drawn next to exonu's results (docs/physics.md §G; all 90 % CL).

Data only — no computation, no plotting. Every entry cites its source; the XMASS-I and
Khan numbers are verified against the seed texts (docs/physics.md §G.1, §G.2), the others are
as quoted by XMASS-I §1.1/§1.2 and docs/physics.md §G.6–G.7.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MILLICHARGE_LIMITS",
    "XMASS_RESULTS",
    "PublishedLimit",
    "published_result",
]


@dataclass(frozen=True)
class PublishedLimit:
    """A published 90 % CL bound on a neutrino millicharge, per flavour.

    ``lower`` is set for two-sided intervals (Khan's XENON1T fits); ``neutrino`` is False for
    antineutrino (reactor) limits; ``flavours`` lists the flavours the bound applies to.
    """

    label: str
    reference: str
    flavours: tuple[str, ...]
    upper: float
    lower: float | None = None
    neutrino: bool = True
    note: str = ""


#: Millicharge limits [e] for XMASS-I Fig. 4 (|q_ν|, per flavour).
MILLICHARGE_LIMITS: tuple[PublishedLimit, ...] = (
    # XMASS-I, PLB 809 (2020) 135741, §4.2 (docs/physics.md §G.1): solar ν, RRPA, 2-15 keV.
    PublishedLimit("XMASS-I (solar $\\nu$)", "PLB 809 (2020) 135741", ("all",), 5.4e-12),
    PublishedLimit("XMASS-I (solar $\\nu$)", "PLB 809 (2020) 135741", ("e",), 7.3e-12),
    PublishedLimit("XMASS-I (solar $\\nu$)", "PLB 809 (2020) 135741", ("mu",), 1.1e-11),
    PublishedLimit("XMASS-I (solar $\\nu$)", "PLB 809 (2020) 135741", ("tau",), 1.1e-11),
    # XMASS-I refs. [11] and [12] (§1.1, docs/physics.md §G.1): the two most stringent direct
    # limits, both from reactor antineutrinos. The seed has no reference list
    # (docs/physics.md §H.6); they are probably the GEMMA-data analysis of Studenikin,
    # EPL 107 (2014) 21001, and TEXONO, Chen et al., PRD 90 (2014) 011301 -- labelled by
    # reference number until verified.
    PublishedLimit(
        "reactor $\\bar\\nu_e$ [11]", "XMASS-I ref. [11]", ("e",), 1.5e-12, neutrino=False
    ),
    PublishedLimit(
        "reactor $\\bar\\nu_e$ [12]", "XMASS-I ref. [12]", ("e",), 2.1e-12, neutrino=False
    ),
    # XMASS-I ref. [13] (§1.1): vacuum birefringence, all flavours, for neutrino masses below
    # 10 meV (probably PVLAS, Della Valle et al.; unverified, docs/physics.md §H.6).
    PublishedLimit(
        "birefringence [13]",
        "XMASS-I ref. [13]",
        ("e", "mu", "tau"),
        3e-8,
        note="$m_\\nu$ < 10 meV",
    ),
    # Khan, arXiv:2006.12887, Table I (docs/physics.md §G.2): XENON1T, two-sided intervals.
    PublishedLimit(
        "XENON1T (Khan)", "arXiv:2006.12887", ("e",), 2.8e-12, lower=2.2e-12, note="interval"
    ),
    PublishedLimit("XENON1T (Khan)", "arXiv:2006.12887", ("mu",), 3.3e-12, lower=-3.5e-12),
    PublishedLimit("XENON1T (Khan)", "arXiv:2006.12887", ("tau",), 3.0e-12, lower=-3.2e-12),
    # Khan Table I: beam dump, ν_τ (from the tables of his ref. [29]).
    PublishedLimit("beam dump", "arXiv:2006.12887 Table I", ("tau",), 3e-4),
    # Atzori Corona et al., arXiv:2207.05036 (LZ first data), docs/physics.md §G.6: |q_ν| for
    # all flavours (flavour-universal fit).
    PublishedLimit("LZ (Atzori Corona et al.)", "arXiv:2207.05036", ("all",), 1.5e-13),
)

#: XMASS-I §4 (docs/physics.md §G.1): (model, flavour, mediator mass [MeV]) -> numbers.
#: chi2 values are (χ², dof) at the best fit and at zero coupling where quoted.
XMASS_RESULTS: dict[tuple[str, str, float | None], dict[str, object]] = {
    ("millicharge", "all", None): {"upper_limit": 5.4e-12, "best_fit": 0.0},
    ("millicharge", "e", None): {"upper_limit": 7.3e-12},
    ("millicharge", "mu", None): {"upper_limit": 1.1e-11},
    ("millicharge", "tau", None): {"upper_limit": 1.1e-11},
    ("magnetic_moment", "all", None): {
        "upper_limit": 1.8e-10,
        "best_fit": 1.3e-10,
        "chi2_best": (85.9, 98),
        "chi2_zero": (88.2, 98),
    },
    ("dark_photon_bl", "all", 1e-3): {
        "upper_limit": 1.3e-6,
        "best_fit": 1.1e-6,
        "chi2_best": (85.3, 98),
    },
    ("dark_photon_bl", "all", 10.0): {
        "upper_limit": 8.8e-5,
        "best_fit": 0.0,
        "chi2_best": (88.2, 98),
    },
}


def published_result(
    model: str, flavour: str, mediator_mass_mev: float | None
) -> dict[str, object] | None:
    """The XMASS-I number for a hypothesis, if XMASS-I quoted one (masses to 1e-6 relative)."""
    for (m, fl, mass), value in XMASS_RESULTS.items():
        if m != model or fl != flavour:
            continue
        if mass is None and mediator_mass_mev is None:
            return value
        if (
            mass is not None
            and mediator_mass_mev is not None
            and abs(mass - mediator_mass_mev) <= 1e-6 * mass
        ):
            return value
    return None
