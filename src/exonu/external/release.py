"""Reading a published data release: data, background model, efficiency, exposure.

A release is a directory of whitespace- (or comma-) separated text files, as the XENON
collaboration publishes them (XENONnT SR0 electron recoils, PRL 129 (2022) 161805, whose file
names are the defaults, :data:`DEFAULT_FILES`, written in the config schema). What each file holds
and how it is read is described by the ``release`` block of the config
(:class:`ReleaseSettings`); the exposure is not in the files and comes from the config too.

* **data** — ``unbinned``: one reconstructed energy [keV] per line; ``binned``: a low-edge, a
  high-edge and a counts column (by default the first three) with contiguous bins. Digitised
  non-integer counts are an error unless ``data.non_integer_counts: round`` (the number of
  rounded bins is kept in :attr:`Release.rounded_bins` and in the workspace metadata);
* **background model** — one or more components, each either a rate per reconstructed energy
  [events/(tonne·year·keV)] (``kind: rate``) or the expected counts per reconstructed bin for the
  whole exposure (``kind: counts``: low-edge, high-edge and counts columns, e.g. XENON1T's B0 or
  the LZ and PandaX best-fit totals), detection efficiency included (it is what was fitted to the
  data). Each is constrained, free, fixed or left out (``release.normalisation``);
* **efficiency** — the total efficiency (0…1) per energy, applied to the signal either at the
  reconstructed energy (what the XENONnT readme says its first column is) or at the true one;
* columns are 0-based indices or, in a file whose first data line is a header (no field is a
  number, e.g. ``E_low_keV,E_high_keV,counts``), header names;
* lines that are empty or start with ``#`` are skipped (CRLF line ends are fine).

Every problem raises :class:`~exonu.external.errors.ReleaseError` with one line naming the file,
the config key it came from and what was expected, e.g.
``release file '/r/bkg_model.txt' (release.backgrounds[0]): line 7, column 0: energy 1.2 keV after
1.3 keV, expected strictly increasing energies``. Checked on reading: NaN/inf anywhere in a
file, negative energies, counts or rates, efficiencies outside [0, 1] (a maximum in (1, 100]
"looks like a percentage") or zero everywhere, a non-finite or non-positive exposure. Checks
that need the binning (a background model zero in the whole fit window, an efficiency zero in
the whole binning) are in :mod:`exonu.external.checks`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from exonu.external.errors import ReleaseError
from exonu.external.resolution import Resolution
from exonu.external.tabulation import Outside, Tabulation, TabulationMode

__all__ = [
    "DEFAULT_FILES",
    "NORMALISATIONS",
    "SECONDS_PER_DAY",
    "BackgroundSpec",
    "Column",
    "Release",
    "ReleaseSettings",
    "SolarNuSpec",
    "read_columns",
    "read_efficiency",
    "read_release",
    "read_table",
]

SECONDS_PER_DAY = 86400.0
FloatArray = npt.NDArray[np.float64]
#: A file column: a 0-based index, or a name from the file's header line.
Column = int | str
#: Treatments of a background normalisation (``release.normalisation``).
NORMALISATIONS = ("constrained", "free", "fixed", "off")
log = logging.getLogger("exonu")


def _schema_file_defaults() -> dict[str, str]:
    """The release file names the config schema gives by default (the one place they are
    written): ``{"data": ..., "background": ..., "efficiency": ...}``."""
    import yaml

    from exonu import resources

    schema = yaml.safe_load(resources.read_text(resources.CONFIG_SCHEMA))
    block = schema["properties"]["release"]["properties"]
    return {
        "data": block["data"]["properties"]["file"]["default"],
        "background": block["backgrounds"]["items"]["properties"]["file"]["default"],
        "efficiency": block["efficiency"]["properties"]["file"]["default"],
    }


#: Release file names by default (those of the XENONnT SR0 electron-recoil release), read
#: from the config schema: keys ``data``, ``background``, ``efficiency``.
DEFAULT_FILES = _schema_file_defaults()


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class BackgroundSpec:
    """One background-model component of the release (``release.backgrounds[i]``).

    ``kind="rate"``: (``energy_column``, ``rate_column``) hold a rate per reconstructed energy
    [events/(tonne·year·keV)] read as ``tabulation``. ``kind="counts"``: (``low_column``,
    ``high_column``, ``counts_column``) hold expected counts per bin for the whole exposure,
    turned into a histogram rate (counts / width / exposure). ``scale`` multiplies the values
    (e.g. a tritium template at another reference concentration). ``relative_uncertainty``:
    Gaussian normalisation constraint; ``None`` = free, 0 = fixed.
    """

    name: str
    file: str = DEFAULT_FILES["background"]
    kind: Literal["rate", "counts"] = "rate"
    energy_column: Column = 0
    rate_column: Column = 1
    low_column: Column = 0
    high_column: Column = 1
    counts_column: Column = 2
    tabulation: TabulationMode = "linear"
    scale: float = 1.0
    relative_uncertainty: float | None = None
    #: Position in the config list ``release.backgrounds`` (-1: not from a config).
    config_index: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class SolarNuSpec:
    """Replacement of the release's solar-ν background by exonu's SM spectrum.

    See :mod:`exonu.external.workspace` for why and how (``release.solar_nu``).
    """

    replace: bool = False
    component: str | None = None
    subtract: Literal["exonu", "file"] = "exonu"
    file: str | None = None
    energy_column: Column = 0
    rate_column: Column = 1
    tabulation: TabulationMode = "linear"
    relative_uncertainty: float | None = 0.05


@dataclass(frozen=True)
class ReleaseSettings:
    """The ``release`` config block and ``release_dir``, checked (see the config schema).

    Attributes
    ----------
    directory : Path
        The release directory.
    data_file, data_format, data_energy_column
        Data file, ``"unbinned"`` or ``"binned"``, and the energy column (unbinned).
    data_columns : tuple of Column
        (low edge, high edge, counts) columns of binned data.
    data_non_integer_counts : {"error", "round"}
        What to do with non-integer binned counts (digitised data).
    backgrounds : tuple of BackgroundSpec
        Background-model components in the model (``normalisation`` applied; ``off`` ones
        left out).
    normalisation : dict of str to str
        ``release.normalisation`` as given (component -> constrained/free/fixed/off).
    dropped : tuple of str
        Components left out of the model (``off``).
    efficiency_file, efficiency_columns, efficiency_applies_to, efficiency_outside
        Efficiency file, its (energy, value) columns, ``"reconstructed"`` or ``"deposited"``
        energy, and the extrapolation policy.
    fiducial_mass_kg, livetime_s : float
        Exposure (not part of the release files).
    resolution : Resolution
        Detector resolution.
    solar_nu : SolarNuSpec
        Solar-ν replacement.
    fit_window_kev : tuple of float or None
        Window of the tables and the comparison (``None``: the whole binning).
    unbinned_fit : bool
        Also fit the unbinned data with the extended likelihood.
    """

    directory: Path
    data_file: str = DEFAULT_FILES["data"]
    data_format: Literal["unbinned", "binned"] = "unbinned"
    data_energy_column: Column = 0
    data_columns: tuple[Column, Column, Column] = (0, 1, 2)
    data_non_integer_counts: Literal["error", "round"] = "error"
    backgrounds: tuple[BackgroundSpec, ...] = (BackgroundSpec("b0"),)
    normalisation: dict[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    efficiency_file: str = DEFAULT_FILES["efficiency"]
    efficiency_columns: tuple[Column, Column] = (0, 1)
    efficiency_applies_to: Literal["reconstructed", "deposited"] = "reconstructed"
    efficiency_outside: Outside = "edge"
    fiducial_mass_kg: float = math.nan
    livetime_s: float = math.nan
    resolution: Resolution = field(default_factory=Resolution)
    solar_nu: SolarNuSpec = field(default_factory=SolarNuSpec)
    fit_window_kev: tuple[float, float] | None = None
    unbinned_fit: bool = True

    @classmethod
    def from_config(cls, release: Mapping[str, Any] | None, release_dir: Any) -> ReleaseSettings:
        """Build from the validated ``release`` block and ``release_dir`` (checks semantics).

        Raises
        ------
        ReleaseError
            Naming the config key, e.g. a missing exposure or a duplicate component name.
        """
        if release_dir in (None, ""):
            raise ReleaseError("config key 'release_dir': required in mode external")
        r = dict(release or {})
        data = dict(r.get("data", {}))
        eff = dict(r.get("efficiency", {}))
        expo = r.get("exposure")
        if not expo or "fiducial_mass_kg" not in expo or "livetime_days" not in expo:
            raise ReleaseError(
                "config key 'release.exposure': required in mode external, with "
                "fiducial_mass_kg and livetime_days (the release files do not hold the exposure)"
            )
        values = {}
        for k in ("fiducial_mass_kg", "livetime_days"):
            try:
                values[k] = float(expo[k])
            except (TypeError, ValueError):
                values[k] = math.nan
            if not (math.isfinite(values[k]) and values[k] > 0):
                raise ReleaseError(
                    f"config key 'release.exposure.{k}': {expo[k]!r}, expected a finite number > 0"
                )
        mass, days = values["fiducial_mass_kg"], values["livetime_days"]
        bkg_docs = r.get("backgrounds") or [{"name": "b0"}]
        bkgs = tuple(BackgroundSpec(**b, config_index=i) for i, b in enumerate(bkg_docs))
        names = [b.name for b in bkgs]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})[0]
            raise ReleaseError(f"config key 'release.backgrounds': duplicate component {dup!r}")
        for i, b in enumerate(bkgs):
            if b.kind not in ("rate", "counts"):
                raise ReleaseError(
                    f"config key 'release.backgrounds[{i}].kind': {b.kind!r}, expected rate or "
                    "counts"
                )
            if not (math.isfinite(float(b.scale)) and b.scale > 0):
                raise ReleaseError(
                    f"config key 'release.backgrounds[{i}].scale': {b.scale!r}, expected a "
                    "finite number > 0"
                )
        solar = SolarNuSpec(**dict(r.get("solar_nu", {})))
        norm = {str(k): str(v) for k, v in dict(r.get("normalisation") or {}).items()}
        bkgs, solar, dropped = _apply_normalisation(bkgs, solar, norm)
        names = [b.name for b in bkgs]
        if not bkgs:
            raise ReleaseError(
                "config key 'release.normalisation': every background component is 'off', "
                "expected at least one in the model"
            )
        if solar.replace:
            if solar.component is not None and solar.component in dropped:
                raise ReleaseError(
                    f"config key 'release.normalisation.{solar.component}': 'off', but "
                    "release.solar_nu.component takes the solar-nu part out of it"
                )
            if solar.component is not None and solar.component not in names:
                raise ReleaseError(
                    f"config key 'release.solar_nu.component': {solar.component!r} is not one "
                    f"of the release backgrounds ({', '.join(names)})"
                )
            if solar.subtract == "file" and not solar.file:
                raise ReleaseError(
                    "config key 'release.solar_nu.file': required when subtract is 'file'"
                )
            if "solar_nu_sm" in names:
                raise ReleaseError(
                    "config key 'release.backgrounds': the name 'solar_nu_sm' is reserved for "
                    "exonu's SM spectrum (release.solar_nu.replace)"
                )
        win = r.get("fit_window_kev")
        window = None
        if win is not None:
            window = (float(win[0]), float(win[1]))
            if not window[1] > window[0]:
                raise ReleaseError(
                    f"config key 'release.fit_window_kev': {list(window)}, need upper > lower"
                )
        cols = dict(data.get("columns") or {})
        unknown = sorted(set(cols) - {"low", "high", "counts"})
        if unknown:
            raise ReleaseError(
                f"config key 'release.data.columns.{unknown[0]}' is unknown, expected low, high "
                "and counts"
            )
        policy = data.get("non_integer_counts", "error")
        if policy not in ("error", "round"):
            raise ReleaseError(
                f"config key 'release.data.non_integer_counts': {policy!r}, expected error or round"
            )
        return cls(
            directory=Path(str(release_dir)),
            data_file=data.get("file", cls.data_file),
            data_format=data.get("format", cls.data_format),
            data_energy_column=_column(data.get("energy_column", 0)),
            data_columns=(
                _column(cols.get("low", 0)),
                _column(cols.get("high", 1)),
                _column(cols.get("counts", 2)),
            ),
            data_non_integer_counts=policy,
            backgrounds=bkgs,
            normalisation=norm,
            dropped=dropped,
            efficiency_file=eff.get("file", cls.efficiency_file),
            efficiency_columns=(
                _column(eff.get("energy_column", 0)),
                _column(eff.get("value_column", 1)),
            ),
            efficiency_applies_to=eff.get("applies_to", "reconstructed"),
            efficiency_outside=eff.get("outside", "edge"),
            fiducial_mass_kg=mass,
            livetime_s=days * SECONDS_PER_DAY,
            resolution=Resolution.from_mapping(r.get("resolution")),
            solar_nu=solar,
            fit_window_kev=window,
            unbinned_fit=bool(r.get("unbinned_fit", True)),
        )

    def background_key(self, name: str) -> str:
        """The config key of a component, e.g. ``release.backgrounds[1]`` (for messages)."""
        for i, b in enumerate(self.backgrounds):
            if b.name == name:
                return f"release.backgrounds[{b.config_index if b.config_index >= 0 else i}]"
        raise KeyError(name)

    @property
    def background_names(self) -> tuple[str, ...]:
        """Names of the components of the workspace (with ``solar_nu_sm`` if replaced)."""
        names = tuple(b.name for b in self.backgrounds)
        return (*names, "solar_nu_sm") if self.solar_nu.replace else names

    def files(self) -> dict[str, Path]:
        """Every release file the analysis reads, keyed by the config key naming it."""
        out = {"release.data.file": self.directory / self.data_file}
        for b in self.backgrounds:
            out[f"{self.background_key(b.name)}.file"] = self.directory / b.file
        out["release.efficiency.file"] = self.directory / self.efficiency_file
        if self.solar_nu.replace and self.solar_nu.subtract == "file" and self.solar_nu.file:
            out["release.solar_nu.file"] = self.directory / self.solar_nu.file
        return out

    def check_files(self) -> None:
        """Raise :class:`ReleaseError` for the first missing file (cheap; run before any job)."""
        if not self.directory.is_dir():
            raise ReleaseError(
                f"config key 'release_dir': {str(self.directory)!r} is not a directory"
            )
        for key, path in self.files().items():
            if not path.is_file():
                raise ReleaseError(f"release file {str(path)!r} ({key}): not found")


def _column(value: Any) -> Column:
    """A column given in the config: an int index or a header name (bool is not an index)."""
    if isinstance(value, str):
        return value
    return int(value)


def _apply_normalisation(
    bkgs: tuple[BackgroundSpec, ...], solar: SolarNuSpec, norm: Mapping[str, str]
) -> tuple[tuple[BackgroundSpec, ...], SolarNuSpec, tuple[str, ...]]:
    """Apply ``release.normalisation`` (component -> constrained/free/fixed/off).

    ``constrained`` keeps the component's ``relative_uncertainty`` (which must be a number),
    ``free`` sets it to ``None``, ``fixed`` to 0 (the workspace's fixed background), ``off``
    leaves the component out. ``solar_nu_sm`` (exonu's SM with ``solar_nu.replace``) may be
    constrained, free or fixed.
    """
    names = [b.name for b in bkgs]
    allowed = [*names, "solar_nu_sm"] if solar.replace else names
    out: list[BackgroundSpec] = []
    for name, mode in norm.items():
        key = f"config key 'release.normalisation.{name}'"
        if name not in allowed:
            raise ReleaseError(
                f"{key}: {name!r} is not a release background (known: {', '.join(allowed)})"
            )
        if mode not in NORMALISATIONS:
            raise ReleaseError(f"{key}: {mode!r}, expected one of {', '.join(NORMALISATIONS)}")
    dropped = []
    for i, b in enumerate(bkgs):
        mode = norm.get(b.name)
        if mode == "off":
            dropped.append(b.name)
            continue
        if mode == "constrained" and b.relative_uncertainty is None:
            raise ReleaseError(
                f"config key 'release.normalisation.{b.name}': 'constrained' needs a number in "
                f"release.backgrounds[{i}].relative_uncertainty (it is null = free)"
            )
        if mode == "free":
            b = replace(b, relative_uncertainty=None)
        elif mode == "fixed":
            b = replace(b, relative_uncertainty=0.0)
        out.append(b)
    mode = norm.get("solar_nu_sm")
    if mode == "off":
        raise ReleaseError(
            "config key 'release.normalisation.solar_nu_sm': 'off' is not possible, set "
            "release.solar_nu.replace: false instead"
        )
    if mode == "free":
        solar = replace(solar, relative_uncertainty=None)
    elif mode == "fixed":
        solar = replace(solar, relative_uncertainty=0.0)
    elif mode == "constrained" and solar.relative_uncertainty is None:
        raise ReleaseError(
            "config key 'release.normalisation.solar_nu_sm': 'constrained' needs a number in "
            "release.solar_nu.relative_uncertainty"
        )
    return tuple(out), solar, tuple(dropped)


# --------------------------------------------------------------------------- reading


def read_columns(path: str | Path, columns: Sequence[Column], key: str) -> FloatArray:
    """Numeric columns of a text file, shape (n_rows, len(columns)).

    Values are separated by whitespace or commas; empty lines and ``#`` comments are skipped.
    A column is a 0-based index or a name of the header line (the first data line when none of
    its fields is a number).

    Raises
    ------
    ReleaseError
        Missing/unreadable file, no data, too few columns, an unknown column name, a non-number
        in a used column or a NaN/inf anywhere in the file; the message names the file,
        ``key``, line and column.
    """
    return read_table(path, columns, key)[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _split_header(line: str) -> list[str]:
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def _resolve_columns(
    columns: Sequence[Column], header: list[str] | None, where: str, lineno: int | None
) -> list[int]:
    """Indices of ``columns`` (names looked up in ``header``)."""
    out = []
    for c in columns:
        if isinstance(c, str):
            if header is None:
                raise ReleaseError(
                    f"{where}: column {c!r} is given by name but the file has no header line "
                    "(a first data line without numbers), expected a 0-based column index"
                )
            if c not in header:
                raise ReleaseError(
                    f"{where}: line {lineno}: no column named {c!r} in the header, expected one "
                    f"of {', '.join(repr(h) for h in header)}"
                )
            out.append(header.index(c))
        else:
            if int(c) < 0:
                raise ReleaseError(f"{where}: column {c}, expected a 0-based index >= 0")
            out.append(int(c))
    return out


def read_table(
    path: str | Path, columns: Sequence[Column], key: str
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """:func:`read_columns` and the file line number (1-based) of every row."""
    p = Path(path)
    where = f"release file {str(p)!r} ({key})"
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise ReleaseError(f"{where}: not found") from None
    except OSError as err:
        raise ReleaseError(f"{where}: cannot read ({err.strerror})") from None
    rows: list[list[float]] = []
    lines: list[int] = []
    n_cols: int | None = None
    header: list[str] | None = None
    header_line: int | None = None
    idx: list[int] | None = None
    need = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").split()
        if idx is None:
            if header is None and not any(_is_number(f) for f in fields):
                header, header_line = _split_header(line), lineno
                continue
            idx = _resolve_columns(columns, header, where, header_line)
            need = max(idx) + 1
        if n_cols is None:
            n_cols = len(fields)
            if header is not None and len(header) != n_cols:
                raise ReleaseError(
                    f"{where}: line {lineno} has {n_cols} columns, the header (line "
                    f"{header_line}) names {len(header)}; expected one name per column"
                )
        if len(fields) < need:
            raise ReleaseError(
                f"{where}: line {lineno} has {len(fields)} column(s), expected at least {need} "
                f"(using columns {list(columns)})"
            )
        if len(fields) != n_cols:
            raise ReleaseError(
                f"{where}: line {lineno} has {len(fields)} columns, earlier lines have {n_cols}"
            )
        values: list[float | None] = []
        for c, text in enumerate(fields):
            try:
                v: float | None = float(text)
            except ValueError:
                if c in idx:
                    raise ReleaseError(
                        f"{where}: line {lineno}, column {c}: {text!r} is not a number"
                    ) from None
                v = None  # an unused text column
            if v is not None and not math.isfinite(v):
                raise ReleaseError(
                    f"{where}: line {lineno}, column {c}: {text} is not finite, expected a "
                    "finite number (NaN/inf anywhere in a release file)"
                )
            values.append(v)
        rows.append([float(values[c]) for c in idx])  # type: ignore[arg-type]
        lines.append(lineno)
    if not rows:
        raise ReleaseError(f"{where}: no data lines")
    return np.array(rows, dtype=np.float64), np.array(lines, dtype=np.int64)


def _curve(
    path: Path,
    columns: tuple[Column, Column],
    key: str,
    mode: TabulationMode,
    outside: Outside,
    what: str,
    value_range: tuple[float, float] | None = None,
) -> Tabulation:
    arr, lines = read_table(path, columns, key)
    where = f"release file {str(path)!r} ({key})"
    if arr.shape[0] < 2:
        raise ReleaseError(f"{where}: {arr.shape[0]} line(s), expected >= 2 ({what})")
    e, v = arr[:, 0], arr[:, 1]
    ce, cv = columns
    bad = np.flatnonzero(np.diff(e) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ReleaseError(
            f"{where}: line {lines[i]}, column {ce}: energy {e[i]:g} keV after {e[i - 1]:g} "
            "keV, expected strictly increasing energies"
        )
    if e[0] < 0:
        raise ReleaseError(
            f"{where}: line {lines[0]}, column {ce}: energy {e[0]:g} keV is negative, expected "
            "energies >= 0 keV"
        )
    if value_range is not None:
        lo, hi = value_range
        out = np.flatnonzero((v < lo) | (v > hi))
        if out.size:
            i = int(out[0])
            head = (
                f"{where}: line {lines[i]}, column {cv}: {what} {v[i]:g} outside [{lo:g}, {hi:g}]"
            )
            if v[i] < lo and lo == 0:
                raise ReleaseError(f"{head}, expected a non-negative {what}")
            vmax = float(v.max())
            if hi == 1.0 and 1.0 < vmax <= 100.0:
                raise ReleaseError(
                    f"{head}: looks like a percentage (maximum {vmax:g}), expected a fraction "
                    "between 0 and 1"
                )
            raise ReleaseError(f"{head}, expected values between {lo:g} and {hi:g}")
    return Tabulation(e, v, mode=mode, outside=outside, source=where)


@dataclass(frozen=True, eq=False)
class Release:
    """The content of a release directory (see the module docstring).

    Attributes
    ----------
    settings : ReleaseSettings
        How it was read.
    events_kev : ndarray or None
        Unbinned reconstructed energies [keV], sorted (``None`` for binned data).
    data_edges_kev, data_counts : ndarray or None
        Binned data (``None`` for unbinned data).
    backgrounds : dict of str to Tabulation
        Background-model rates per reconstructed energy [events/(tonne·year·keV)].
    efficiency : Tabulation
        Total efficiency per energy.
    solar_nu_reference : Tabulation or None
        The release's own solar-ν rate (``release.solar_nu.file``), if given.
    rounded_bins : int
        Binned data: bins whose non-integer count was rounded (``non_integer_counts: round``).
    rounding_shift : float
        Sum over bins of (rounded − given) count.
    """

    settings: ReleaseSettings
    events_kev: FloatArray | None
    data_edges_kev: FloatArray | None
    data_counts: FloatArray | None
    backgrounds: dict[str, Tabulation]
    efficiency: Tabulation
    solar_nu_reference: Tabulation | None = None
    rounded_bins: int = 0
    rounding_shift: float = 0.0

    @property
    def fiducial_mass_kg(self) -> float:
        """Target mass [kg]."""
        return self.settings.fiducial_mass_kg

    @property
    def livetime_s(self) -> float:
        """Live time [s]."""
        return self.settings.livetime_s

    @property
    def exposure_tonne_year(self) -> float:
        """Exposure [tonne·year], year = 365.25 d."""
        return self.fiducial_mass_kg / 1000.0 * self.livetime_s / (365.25 * SECONDS_PER_DAY)

    @property
    def n_events(self) -> int:
        """Number of events in the release."""
        if self.events_kev is not None:
            return int(self.events_kev.size)
        assert self.data_counts is not None
        return int(self.data_counts.sum())

    def observed(self, edges_kev: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Observed counts in the bins ``edges_kev``.

        Unbinned data are histogrammed (an event on an inner edge goes to the upper bin).
        Binned data can only be merged: every requested edge must be a release edge.
        """
        edges = np.asarray(edges_kev, dtype=np.float64)
        if self.events_kev is not None:
            counts, _ = np.histogram(self.events_kev, bins=edges)
            return counts.astype(np.int64)
        assert self.data_edges_kev is not None and self.data_counts is not None
        rel = self.data_edges_kev
        idx = np.searchsorted(rel, edges)
        tol = 1e-9 * max(1.0, float(abs(rel[-1])))
        ok = (idx < rel.size) & (np.abs(rel[np.minimum(idx, rel.size - 1)] - edges) <= tol)
        if not np.all(ok):
            e = float(edges[int(np.flatnonzero(~ok)[0])])
            raise ReleaseError(
                f"release file {str(self.settings.directory / self.settings.data_file)!r} "
                f"(release.data.file): binned data cannot be rebinned at {e:g} keV; the bin "
                "edges of binning.energy_kev must be edges of the release bins"
            )
        cum = np.concatenate([[0.0], np.cumsum(self.data_counts)])
        return np.rint(np.diff(cum[idx])).astype(np.int64)

    def events_in(self, window_kev: tuple[float, float]) -> FloatArray:
        """Unbinned energies inside ``[lo, hi)`` (raises for binned data)."""
        if self.events_kev is None:
            raise ReleaseError(
                "release.data.format is 'binned': an unbinned fit needs unbinned data"
            )
        lo, hi = window_kev
        e = self.events_kev
        return e[(e >= lo) & (e < hi)]


def read_efficiency(settings: ReleaseSettings) -> Tabulation:
    """The efficiency curve alone (linear interpolation, ``release.efficiency.outside`` policy).

    Raises
    ------
    ReleaseError
        Besides the checks of every curve: a value outside [0, 1] (a maximum in (1, 100]
        "looks like a percentage") or an efficiency that is 0 everywhere.
    """
    tab = _curve(
        settings.directory / settings.efficiency_file,
        settings.efficiency_columns,
        "release.efficiency.file",
        "linear",
        settings.efficiency_outside,
        "efficiency",
        (0.0, 1.0),
    )
    if not np.any(tab.values > 0):
        raise ReleaseError(
            f"{tab.source}: the efficiency (column {settings.efficiency_columns[1]}) is 0 on "
            "every line, expected a detection efficiency > 0 somewhere (a fraction 0...1)"
        )
    return tab


def read_release(settings: ReleaseSettings) -> Release:
    """Read and check every file of a release (see the module docstring).

    Raises
    ------
    ReleaseError
        One line naming the file and what was wrong with it.
    """
    settings.check_files()
    d = settings.directory
    data_path = d / settings.data_file
    where = f"release file {str(data_path)!r} (release.data.file)"
    events = edges = counts = None
    rounded, shift = 0, 0.0
    if settings.data_format == "unbinned":
        arr, lines = read_table(data_path, [settings.data_energy_column], "release.data.file")
        if np.any(arr[:, 0] < 0):
            i = int(np.flatnonzero(arr[:, 0] < 0)[0])
            raise ReleaseError(
                f"{where}: line {lines[i]}, column {settings.data_energy_column}: negative "
                f"energy {arr[i, 0]:g} keV, expected energies >= 0 keV"
            )
        events = np.sort(arr[:, 0])
    elif settings.data_format == "binned":
        edges, counts, rounded, shift = _read_binned_data(settings, data_path, where)
    else:
        raise ReleaseError(
            f"config key 'release.data.format': {settings.data_format!r}, expected unbinned or "
            "binned"
        )

    backgrounds = {}
    for b in settings.backgrounds:
        key = settings.background_key(b.name)
        if b.kind == "counts":
            tab = _counts_histogram(d / b.file, b, key, settings)
        else:
            tab = _curve(
                d / b.file,
                (b.energy_column, b.rate_column),
                key,
                b.tabulation,
                "error",
                "background rate",
                (0.0, math.inf),
            )
            if b.scale != 1.0:
                tab = Tabulation(
                    tab.energies_kev, tab.values * b.scale, tab.mode, tab.outside, tab.source
                )
        backgrounds[b.name] = tab
    efficiency = read_efficiency(settings)
    reference = None
    sn = settings.solar_nu
    if sn.replace and sn.subtract == "file" and sn.file:
        reference = _curve(
            d / sn.file,
            (sn.energy_column, sn.rate_column),
            "release.solar_nu.file",
            sn.tabulation,
            "error",
            "solar-neutrino rate",
            (0.0, math.inf),
        )
    return Release(
        settings=settings,
        events_kev=events,
        data_edges_kev=edges,
        data_counts=counts,
        backgrounds=backgrounds,
        efficiency=efficiency,
        solar_nu_reference=reference,
        rounded_bins=rounded,
        rounding_shift=shift,
    )


def _binned_columns(
    path: Path, columns: tuple[Column, Column, Column], key: str, what: str
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """(low, high, value, line numbers) of contiguous bins; raises on empty or gapped bins."""
    arr, lines = read_table(path, list(columns), key)
    where = f"release file {str(path)!r} ({key})"
    lo, hi, n = arr[:, 0], arr[:, 1], arr[:, 2]
    if np.any(hi <= lo):
        i = int(np.flatnonzero(hi <= lo)[0])
        raise ReleaseError(
            f"{where}: line {lines[i]}, columns {columns[0]}/{columns[1]}: bin [{lo[i]:g}, "
            f"{hi[i]:g}] is empty, expected low edge < high edge"
        )
    gap = np.flatnonzero(np.abs(lo[1:] - hi[:-1]) > 1e-9 * max(1.0, float(hi[-1])))
    if gap.size:
        i = int(gap[0]) + 1
        raise ReleaseError(
            f"{where}: line {lines[i]}, column {columns[0]}: bin starts at {lo[i]:g} keV, "
            f"previous ends at {hi[i - 1]:g} keV; expected contiguous, increasing bins "
            f"(columns low, high, {what})"
        )
    if np.any(n < 0):
        i = int(np.flatnonzero(n < 0)[0])
        raise ReleaseError(
            f"{where}: line {lines[i]}, column {columns[2]}: {what} {n[i]:g}, expected a "
            f"non-negative {what}"
        )
    return lo, hi, n, lines


def _read_binned_data(
    settings: ReleaseSettings, path: Path, where: str
) -> tuple[FloatArray, FloatArray, int, float]:
    """Binned data: edges, counts, number of rounded bins and the rounding shift."""
    lo, hi, n, lines = _binned_columns(path, settings.data_columns, "release.data.file", "count")
    off = np.abs(n - np.rint(n)) > 1e-6
    rounded, shift = 0, 0.0
    if off.any():
        if settings.data_non_integer_counts != "round":
            i = int(np.flatnonzero(off)[0])
            raise ReleaseError(
                f"{where}: line {lines[i]}, column {settings.data_columns[2]}: count {n[i]:g}, "
                "expected a non-negative integer (digitised counts: set "
                "release.data.non_integer_counts: round)"
            )
        rounded = int(off.sum())
        shift = float(np.sum(np.rint(n) - n))
        log.warning(
            "%s: %d of %d non-integer counts rounded to the nearest integer (total %+.3f "
            "events; release.data.non_integer_counts: round)",
            where,
            rounded,
            n.size,
            shift,
        )
    return np.concatenate([lo, hi[-1:]]), np.rint(n), rounded, shift


def _counts_histogram(
    path: Path, spec: BackgroundSpec, key: str, settings: ReleaseSettings
) -> Tabulation:
    """A ``kind: counts`` component as a histogram rate [events/(tonne·year·keV)].

    Expected counts per bin for the whole exposure / bin width / exposure: integrating the
    rate back over the same bins times the exposure returns the published counts exactly.
    """
    lo, hi, n, _ = _binned_columns(
        path,
        (spec.low_column, spec.high_column, spec.counts_column),
        key,
        "expected count",
    )
    ty = settings.fiducial_mass_kg / 1000.0 * settings.livetime_s / (365.25 * SECONDS_PER_DAY)
    edges = np.concatenate([lo, hi[-1:]])
    if edges.size < 3:
        raise ReleaseError(
            f"release file {str(path)!r} ({key}): 1 bin, expected >= 2 bins of expected counts"
        )
    rate = spec.scale * n / (hi - lo) / ty
    return Tabulation(
        0.5 * (lo + hi),
        rate,
        mode="histogram",
        outside="error",
        source=f"release file {str(path)!r} ({key})",
        edges_kev=edges,
    )
