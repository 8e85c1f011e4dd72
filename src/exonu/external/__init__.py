"""External published-spectrum mode: analyse a public data release with exonu's statistics.

Many users have no event files, only what an experiment publishes: binned or unbinned event
energies, a best-fit background model and an efficiency curve (e.g. the XENONnT SR0
electron-recoil release, PRL 129 (2022) 161805, the input of A. N. Khan's re-analyses). This
package turns such a release into the same workspace as the events mode, so the whole downstream
(fits, limits, scans, products) is reused. What to use when:

* :mod:`exonu.external.release` — :class:`ReleaseSettings` (the ``release`` config block) and
  :func:`read_release` (the files, checked with one-line errors naming the file);
* :mod:`exonu.external.tabulation` — :class:`Tabulation`, a published curve with exact bin
  integrals (linear or histogram reading);
* :mod:`exonu.external.resolution` — :class:`Resolution`, the configurable Gaussian σ(E);
* :mod:`exonu.external.response` — :func:`build_response`, efficiency × smearing on
  (true, reconstructed) bins, and :func:`response_density` for the unbinned fit;
* :mod:`exonu.external.workspace` — background components (with the optional replacement of
  the solar-ν part by exonu's SM, needed for consistent interference) and
  :func:`external_workspace`;
* :mod:`exonu.external.unbinned` — the extended unbinned likelihood and its limits;
* :mod:`exonu.external.survey` — Khan-style tables and the binning/likelihood comparison;
* :mod:`exonu.external.checks` — configuration checks run before any job;
* :mod:`exonu.stages.external` — the functions the workflow rules call.
"""

from __future__ import annotations

from exonu.external.errors import ReleaseError
from exonu.external.release import Release, ReleaseSettings, read_release
from exonu.external.resolution import Resolution
from exonu.external.response import build_response, response_density
from exonu.external.tabulation import Tabulation
from exonu.external.workspace import external_workspace

__all__ = [
    "Release",
    "ReleaseError",
    "ReleaseSettings",
    "Resolution",
    "Tabulation",
    "build_response",
    "external_workspace",
    "read_release",
    "response_density",
]
