"""A HEPData submission of the analysis, built with hepdata_lib and validated.

Tables (one YAML file each in the archive), from the documents the other product rules write:

* ``Spectrum <signal>`` — per reconstructed-energy bin of the fit window: observed counts
  (±√N), best-fit background, best-fit signal + background (±1σ) and the signal at the
  90 % CL limit (XMASS-I Figs. 3 and 5; :func:`exonu.products.spectra.fit_spectrum`);
* ``Limits`` — best fit, χ² at the best fit and at zero, limits of every row of the summary
  table (:mod:`exonu.products.tables`);
* ``Exclusion <scan>`` — upper limit on the coupling versus the mediator mass, with the
  expected median and ±1σ/±2σ when present (XMASS-I Fig. 6);
* ``Delta chi2 <hypothesis>`` — profiled Δχ² versus the coupling (Khan Fig. 3);
* ``Contour <name>`` — the Δχ² grid of two couplings, and ``Contour <name> <CL>`` the
  iso-Δχ² lines at each level (Khan Fig. 5).

:func:`write_submission` runs ``Submission.create_files(validate=True)`` (the
hepdata-validator full-submission check) in a private temporary directory — hepdata_lib
writes ``submission.tar.gz`` into the working directory — and repacks the archive at the
requested path so that identical inputs give an identical file (no time stamps, owners or
file order of the machine that wrote it).
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["build_submission", "reproducible_tar_gz", "write_submission"]


def _unit(unit: str) -> str:
    """HEPData form of a parameter unit (:data:`exonu.physics.UNITS`)."""
    from exonu.physics.models import unit_labels

    return unit_labels(unit).hepdata


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(float(v))


def _var(
    name: str,
    values: Sequence[Any],
    *,
    units: str = "",
    independent: bool = False,
    binned: bool = False,
) -> Any:
    from hepdata_lib import Variable

    var = Variable(
        name,
        is_independent=independent,
        is_binned=binned,
        units=units,
        zero_uncertainties_warning=False,
    )
    var.values = list(values)
    return var


def _param_name(doc: Mapping[str, Any], flavour: str | None = None) -> str:
    fl = flavour if flavour is not None else doc.get("flavour", "all")
    suffix = "" if fl in (None, "all") else f" (nu_{fl})"
    return f"{doc['parameter']}{suffix}"


def _spectrum_table(doc: Mapping[str, Any]) -> Any:
    from hepdata_lib import Table, Uncertainty

    edges = doc["edges_kev"]
    bins = [(float(a), float(b)) for a, b in itertools.pairwise(edges)]
    t = Table(f"Spectrum {doc['signal']}")
    cl = doc["limit"].get("cl") or 0.9
    t.description = (
        f"{doc['analysis']}: energy distribution in the fit window of the "
        f"{doc['model'].replace('_', ' ')} fit ({doc['signal']}): data, best-fit background, "
        f"best-fit signal + background with its 1 sigma band (fit covariance and MC statistics) "
        f"and the signal alone at the {100 * cl:g}% CL upper limit "
        f"{doc['parameter']} = {doc['limit'].get('upper_limit')} {doc['unit']}. "
        f"Best fit {doc['parameter']} = {doc['best_fit']:.4g} {doc['unit']}, chi2/ndof = "
        f"{doc['chi2_best']:.2f}/{doc['ndof']}."
    )
    t.location = "XMASS-I style Figs. 3 and 5"
    t.keywords["observables"] = ["N"]
    t.add_variable(_var("reconstructed energy", bins, units="keV", independent=True, binned=True))
    obs = _var("data", [int(v) for v in doc["observed"]], units="events")
    stat = Uncertainty("stat")
    stat.values = [math.sqrt(max(v, 0)) for v in doc["observed"]]
    obs.add_uncertainty(stat)
    t.add_variable(obs)
    t.add_variable(_var("best-fit background", doc["background"], units="events"))
    total = _var("best-fit signal + background", doc["total_best"], units="events")
    band = Uncertainty("fit and MC statistics")
    band.values = list(doc["total_sigma"])
    total.add_uncertainty(band)
    t.add_variable(total)
    if doc.get("signal_at_limit") is not None:
        t.add_variable(
            _var(f"signal at {100 * cl:g}% CL limit", doc["signal_at_limit"], units="events")
        )
    return t


_LIKELIHOODS = {
    "chi2": "the chi2 of XMASS-I eq. 4 (data and MC variance in the denominator, Gaussian "
    "pull terms, eqs. 5-7)",
    "poisson": "the Poisson likelihood (Baker-Cousins chi2) with the pull terms of XMASS-I eq. 7",
}


def likelihood_statement(docs: Sequence[Mapping[str, Any]]) -> str:
    """Which likelihood, MC-statistics treatment and limit method the numbers of ``docs``
    (limit results, spectrum documents) used, as one sentence."""
    from exonu.stats.model import DEFAULT_MC_STATISTICS

    def values(key: str, default: str | None = None) -> list[str]:
        found = set()
        for d in docs:
            v = d.get(key) or (d.get("limit") or {}).get(key) or default
            if v:
                found.add(str(v))
        return sorted(found)

    liks = values("likelihood")
    text = "Likelihood: " + (
        "; ".join(_LIKELIHOODS.get(v, v) for v in liks) if liks else "not recorded"
    )
    text += (
        "; Monte-Carlo statistics of the templates: "
        + ", ".join(values("mc_statistics", DEFAULT_MC_STATISTICS))
        + " (exonu.stats.model; chosen by benchmarks/records/mcstat_coverage.md)"
    )
    methods = values("method")
    if methods:
        text += "; limits by the " + ", ".join(methods) + " method"
    return (
        text + ". The pyhf workspaces of products/pyhf are the Poisson version of the same model."
    )


def _limits_table(rows: Sequence[Mapping[str, Any]], statement: str = "") -> Any:
    from hepdata_lib import Table

    t = Table("Limits")
    t.description = (
        "Best fit, chi2 at the best fit and at zero coupling, ndof and the limits of every "
        "configured fit and scan hypothesis (scans over a mass grid: see the exclusion tables). "
        "The limit is an upper limit, or an interval when a lower limit is given; units in the "
        "'unit' column. " + statement
    ).strip()
    t.location = "summary table"

    def col(key: str) -> list[Any]:
        return [r.get(key) if _finite(r.get(key)) else "-" for r in rows]

    t.add_variable(_var("hypothesis", [r["hypothesis"] for r in rows], independent=True))
    t.add_variable(_var("parameter", [r["parameter"] for r in rows]))
    t.add_variable(_var("unit", [r["unit"] for r in rows]))
    t.add_variable(_var("flavour", [r["flavour"] for r in rows]))
    t.add_variable(_var("mediator mass", col("mediator_mass_mev"), units="MeV"))
    t.add_variable(_var("best fit", col("best_fit")))
    t.add_variable(_var("chi2 at best fit", col("chi2_best")))
    t.add_variable(_var("chi2 at zero", col("chi2_zero")))
    t.add_variable(_var("ndof", col("ndof")))
    t.add_variable(_var("lower limit", col("lower_limit")))
    t.add_variable(_var("upper limit", col("upper_limit")))
    return t


def _exclusion_table(scan: Mapping[str, Any]) -> Any:
    from hepdata_lib import Table

    results = [r for r in scan["results"] if r.get("mediator_mass_mev") is not None]
    results.sort(key=lambda r: (r["flavour"], r["mediator_mass_mev"]))
    first = results[0]
    unit = _unit(first["unit"])
    t = Table(f"Exclusion {scan['scan']}")
    t.description = (
        f"{first['analysis']}: {100 * (first.get('cl') or 0.9):g}% CL upper limit on "
        f"{first['parameter']} ({first['model'].replace('_', ' ')}) versus the mediator mass, "
        f"method {first.get('method')}. " + likelihood_statement(results)
    )
    t.location = "XMASS-I style Fig. 6"
    t.add_variable(
        _var(
            "mediator mass",
            [r["mediator_mass_mev"] for r in results],
            units="MeV",
            independent=True,
        )
    )
    flavours = {r["flavour"] for r in results}
    if len(flavours) > 1:
        t.add_variable(_var("flavour", [r["flavour"] for r in results]))
    t.add_variable(
        _var(
            f"upper limit on {first['parameter']}",
            [r["upper_limit"] if _finite(r.get("upper_limit")) else "-" for r in results],
            units=unit,
        )
    )
    if all(r.get("expected") for r in results):
        for key, label in (
            ("median", "expected median"),
            ("minus1", "expected -1 sigma"),
            ("plus1", "expected +1 sigma"),
            ("minus2", "expected -2 sigma"),
            ("plus2", "expected +2 sigma"),
        ):
            vals = [r["expected"].get(key) for r in results]
            t.add_variable(_var(label, [v if _finite(v) else "-" for v in vals], units=unit))
    return t


def _curve_table(
    curve: Mapping[str, Any], levels: Sequence[float], thresholds: Sequence[float]
) -> Any:
    from hepdata_lib import Table

    unit = _unit(curve["unit"])
    t = Table(f"Delta chi2 {curve['hypothesis']}")
    marks = ", ".join(
        f"{100 * cl:g}% CL at {thr:.2f}" for cl, thr in zip(levels, thresholds, strict=True)
    )
    t.description = (
        f"Profiled Delta chi2 of {curve['parameter']} for {curve['hypothesis']} "
        f"(flavour {curve['flavour']}), all nuisance parameters profiled; best fit "
        f"{curve['best_fit']:.4g} {curve['unit']}. 1-dof thresholds: {marks}."
    )
    t.location = "Khan (arXiv:2006.12887) style Fig. 3"
    pts = [
        (v, d)
        for v, d in zip(curve["values"], curve["delta_chi2"], strict=True)
        if _finite(v) and _finite(d)
    ]
    t.add_variable(_var(_param_name(curve), [p[0] for p in pts], units=unit, independent=True))
    t.add_variable(_var("Delta chi2", [p[1] for p in pts]))
    return t


def _contour_tables(doc: Mapping[str, Any]) -> list[Any]:
    from hepdata_lib import Table

    pa = _param_name({"parameter": doc["parameters"][0]}, doc["flavours"][0])
    pb = _param_name({"parameter": doc["parameters"][1]}, doc["flavours"][1])
    ua, ub = _unit(doc["units"][0]), _unit(doc["units"][1])
    grid = Table(f"Contour {doc['name']}")
    grid.description = (
        f"Profiled Delta chi2 of the {doc['model'].replace('_', ' ')} couplings of "
        f"nu_{doc['flavours'][0]} and nu_{doc['flavours'][1]} fitted together, on a grid; "
        f"best fit ({doc['best_fit'][0]:.4g}, {doc['best_fit'][1]:.4g}). 2-dof thresholds: "
        + ", ".join(
            f"{100 * cl:g}% CL at {thr:.2f}"
            for cl, thr in zip(doc["levels"], doc["thresholds"], strict=True)
        )
        + "."
    )
    grid.location = "Khan (arXiv:2006.12887) style Fig. 5"
    xa, xb, z = [], [], []
    for i, a in enumerate(doc["values_a"]):
        for j, b in enumerate(doc["values_b"]):
            xa.append(a)
            xb.append(b)
            v = doc["delta_chi2"][i][j]
            z.append(v if _finite(v) else "-")
    grid.add_variable(_var(pa, xa, units=ua, independent=True))
    grid.add_variable(_var(pb, xb, units=ub, independent=True))
    grid.add_variable(_var("Delta chi2", z))
    tables = [grid]
    for cl, thr, lines in zip(doc["levels"], doc["thresholds"], doc["lines"], strict=True):
        for k, line in enumerate(lines):
            if len(line) < 2:
                continue
            part = f" part {k + 1}" if len(lines) > 1 else ""
            t = Table(f"Contour {doc['name']} CL{100 * cl:g}{part}")
            t.description = (
                f"{100 * cl:g}% CL contour (Delta chi2 = {thr:.2f}, 2 dof) of the grid of "
                f"table 'Contour {doc['name']}', by linear interpolation; points in order "
                "along the line."
            )
            t.location = "Khan (arXiv:2006.12887) style Fig. 5"
            t.add_variable(_var(pa, [p[0] for p in line], units=ua, independent=True))
            t.add_variable(_var(pb, [p[1] for p in line], units=ub))
            tables.append(t)
    return tables


def build_submission(
    *,
    analysis: str,
    spectra: Sequence[Mapping[str, Any]] = (),
    summary_rows: Sequence[Mapping[str, Any]] = (),
    exclusion_scans: Sequence[Mapping[str, Any]] = (),
    curves: Sequence[Mapping[str, Any]] = (),
    contours: Sequence[Mapping[str, Any]] = (),
) -> Any:
    """The :class:`hepdata_lib.Submission` of the analysis (tables listed in the module
    docstring; empty inputs are skipped)."""
    from hepdata_lib import Submission

    sub = Submission()
    sub.comment = (
        f"exonu analysis '{analysis}': search for exotic neutrino-electron interactions of "
        "solar neutrinos (millicharge, magnetic moment, U(1)B-L dark photon and other light "
        "mediators) in a liquid-xenon electron-recoil spectrum, following XMASS-I "
        "(PLB 809 (2020) 135741) and A. N. Khan (arXiv:2006.12887)."
    )
    statement = likelihood_statement(
        [*spectra, *[r for scan in exclusion_scans for r in scan.get("results", [])]]
    )
    sub.comment += " " + statement
    for doc in spectra:
        sub.add_table(_spectrum_table(doc))
    if summary_rows:
        sub.add_table(_limits_table(summary_rows, statement))
    for scan in exclusion_scans:
        sub.add_table(_exclusion_table(scan))
    for doc in curves:
        for curve in doc["curves"]:
            sub.add_table(_curve_table(curve, doc["levels"], doc["thresholds"]))
    for doc in contours:
        for t in _contour_tables(doc):
            sub.add_table(t)
    return sub


@contextmanager
def _cwd(path: Path) -> Any:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def reproducible_tar_gz(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Repack the tar.gz ``source`` as ``target`` so that the same contents give the same
    bytes: members sorted by name, modification times 0, owner 0/0 without names, modes
    0644 (directories 0755), and a gzip header without time stamp or file name."""
    import gzip
    import io
    import tarfile

    with tarfile.open(source) as tin:
        members = sorted(tin.getmembers(), key=lambda m: m.name)
        payload = []
        for m in members:
            if not (m.isfile() or m.isdir()):
                raise ValueError(f"{source}: member {m.name!r} is neither file nor directory")
            fh = tin.extractfile(m) if m.isfile() else None
            payload.append((m.name, m.isdir(), fh.read() if fh else b""))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tout:
        for name, is_dir, data in payload:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
            info.mode = 0o755 if is_dir else 0o644
            info.size = len(data)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tout.addfile(info, io.BytesIO(data) if not is_dir else None)
    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buf.getvalue())


def write_submission(sub: Any, archive: str | os.PathLike[str]) -> dict[str, Any]:
    """Write and validate the submission; repack ``submission.tar.gz`` byte-reproducibly
    (:func:`reproducible_tar_gz`) as ``archive`` (written in place; the workflow stage gives a
    temporary path, :func:`exonu.stages.products.hepdata`).

    Returns
    -------
    dict
        ``{"valid": True, "tables": [...], "files": [...]}`` (the validator's verdict; an
        invalid submission raises ``AssertionError`` from hepdata_lib after printing the
        validator's messages).
    """
    import tarfile

    archive = Path(archive).resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="exonu-hepdata-") as tmp:
        work = Path(tmp)
        with _cwd(work):
            sub.create_files(str(work / "files"), validate=True, remove_old=True)
        produced = work / "submission.tar.gz"
        with tarfile.open(produced) as tar:
            names = sorted(tar.getnames())
        reproducible_tar_gz(produced, archive)
    return {
        "valid": True,
        "validator": "hepdata_validator FullSubmissionValidator (hepdata_lib create_files)",
        "tables": [t.name for t in sub.tables],
        "files": names,
    }
