"""Physical constants and unit conversions used by :mod:`exonu.physics`.

Natural units (ħ = c = 1), energies in MeV unless a name says otherwise. Values and
conversions follow docs/physics.md §0 (CODATA 2018 / PDG 2022).
"""

from __future__ import annotations

import math

#: Fine-structure constant in the Thomson limit, α = e²/(4π).
ALPHA = 1.0 / 137.035999084
#: Fermi constant [MeV⁻²] (PDG 2022: 1.1663788×10⁻⁵ GeV⁻²).
G_F_MEV2 = 1.1663788e-11
#: Electron mass [MeV].
M_E_MEV = 0.51099895
#: ħc [MeV·cm].
HBARC_MEV_CM = 1.973269804e-11
#: (ħc)² [MeV²·cm²]: converts a cross section in MeV⁻² to cm² (dσ/dT in MeV⁻³ to cm²/MeV).
HBARC2_MEV2_CM2 = HBARC_MEV_CM**2
#: ħc [eV·cm].
HBARC_EV_CM = HBARC_MEV_CM * 1e6
#: Avogadro constant [mol⁻¹].
AVOGADRO = 6.02214076e23

#: Xenon atomic number.
XENON_Z = 54
#: Xenon standard atomic weight [g/mol].
XENON_MOLAR_MASS_G = 131.293
#: Xenon atoms per tonne (4.5868×10²⁷).
XENON_ATOMS_PER_TONNE = 1e6 / XENON_MOLAR_MASS_G * AVOGADRO
#: Electrons per tonne of xenon (2.4769×10²⁹, docs/physics.md §0).
XENON_ELECTRONS_PER_TONNE = XENON_Z * XENON_ATOMS_PER_TONNE

#: Seconds per year, Julian year of 365.25 d (the XENON "t·yr" convention).
SECONDS_PER_YEAR = 365.25 * 86400.0

#: √2 π α / G_F [MeV²], the photon-exchange g_V shift scale (Khan-1T eq. 4).
PHOTON_GV_SCALE_MEV2 = math.sqrt(2.0) * math.pi * ALPHA / G_F_MEV2
#: Square-centimetre to MeV⁻² conversion (1 cm² = 2.5682×10²¹ MeV⁻²).
CM2_TO_INV_MEV2 = 1.0 / HBARC2_MEV2_CM2

__all__ = [
    "ALPHA",
    "AVOGADRO",
    "CM2_TO_INV_MEV2",
    "G_F_MEV2",
    "HBARC2_MEV2_CM2",
    "HBARC_EV_CM",
    "HBARC_MEV_CM",
    "M_E_MEV",
    "PHOTON_GV_SCALE_MEV2",
    "SECONDS_PER_YEAR",
    "XENON_ATOMS_PER_TONNE",
    "XENON_ELECTRONS_PER_TONNE",
    "XENON_MOLAR_MASS_G",
    "XENON_Z",
]
