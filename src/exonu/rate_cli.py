"""``exonu rate``: electron-recoil rates of one model for physicists who want a number.

Example::

    exonu rate magnetic_moment --param mu_nu=1e-10 --flavour all --atomic stepping \\
        --energies-kev 1,2,5,10 --json

Also runnable as ``python -m exonu.rate_cli rate ...``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from exonu.physics.errors import PhysicsError
from exonu.physics.fluxes import FLUX_SETS
from exonu.physics.models import FLAVOUR_CHOICES, MODELS, get_model, treatment_names
from exonu.physics.rates import RATE_UNIT, signal_basis, standard_model_rate
from exonu.physics.settings import ATOMIC_MODELS, FLAVOUR_COMPOSITIONS, PhysicsSettings

__all__ = ["main", "parse_energies", "register", "run"]

_DEFAULT_ENERGIES = "1,2,5,10,20,50,100,200"
#: Most energies one ``start:stop:step`` may give (a typo in the step must not exhaust memory).
MAX_ENERGIES = 100_000


def _models_help() -> str:
    """The models of the registry (:data:`exonu.physics.MODELS`), one line each."""
    lines = ["models (parameter [unit], excess powers, typical value):"]
    for info in MODELS.values():
        if info.parameter is None:
            lines.append(f"  {info.name:15s} no parameter (the SM rate only)")
            continue
        treatments = ""
        if info.treatments:
            treatments = f"; --treatment {'|'.join(info.treatments)}"
        mass = ""
        if info.needs_mass:
            mass = "; needs --mediator-mass-mev"
            if info.mass_range_mev is not None:
                mass += f" (scans: {info.mass_range_mev[0]:g}-{info.mass_range_mev[1]:g} MeV)"
        powers = "/".join(str(p) for p in info.powers())
        lines.append(
            f"  {info.name:15s} {info.parameter} [{info.unit}], powers {powers}, "
            f"e.g. {info.reference_value:g}{treatments}{mass}"
        )
    lines.append("")
    lines.append(
        "Rates are dN/dT before detector response, in events/(tonne*year*keV); --flavour says "
        "which neutrinos carry the new physics (all = flavour-universal)."
    )
    return "\n".join(lines)


def parse_energies(text: str) -> np.ndarray:
    """Parse ``"1,2,5"`` or ``"start:stop:step"`` (stop included) into keV values."""
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if not all(map(math.isfinite, (start, stop, step))) or step <= 0 or stop < start:
                raise ValueError
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            if count > MAX_ENERGIES:
                raise PhysicsError(
                    f"--energies-kev: {text!r} gives {count} energies, expected at most "
                    f"{MAX_ENERGIES} (a larger step?)"
                )
            return start + step * np.arange(count)
        return np.array([float(part) for part in text.split(",") if part.strip()])
    except PhysicsError:
        raise
    except ValueError:
        raise PhysicsError(
            f"--energies-kev: expected 'E1,E2,...' or 'start:stop:step' in keV, got {text!r}"
        ) from None


def _parse_params(items: list[str] | None, model: str) -> dict[str, float]:
    info = get_model(model)
    params: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise PhysicsError(f"--param: expected NAME=VALUE, got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise PhysicsError(f"--param {name}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise PhysicsError(f"--param {name}: expected a finite number, got {value!r}")
        params[name] = number
    if info.parameter is None:
        if params:
            raise PhysicsError(f"--param: model {model!r} takes no parameter")
        return {}
    unknown = set(params) - {info.parameter}
    if unknown:
        raise PhysicsError(
            f"--param: model {model!r} takes {info.parameter} [{info.unit}], "
            f"got {sorted(unknown)!r}"
        )
    params.setdefault(info.parameter, info.reference_value)
    return params


def check_plot_path(text: str) -> Path:
    """The ``--plot`` file: its directory exists and its suffix is a figure format."""
    path = Path(text)
    if path.is_dir() or text.endswith(("/", "\\")):
        raise PhysicsError(f"--plot {text}: is a directory, expected a file name such as rate.png")
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise PhysicsError(f"--plot {text}: directory {parent} {what}")
    from matplotlib.backend_bases import FigureCanvasBase

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    if path.suffix.lower().lstrip(".") not in formats:
        raise PhysicsError(
            f"--plot {text}: expected a file name ending in a figure format "
            f"({', '.join('.' + f for f in formats)}), got suffix {path.suffix or '(none)'!r}"
        )
    return path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rate`` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "rate",
        help="solar-neutrino electron-recoil rate of one model (SM and exotic excess)",
        description=(
            "Compute the SM and exotic electron-recoil rates of solar neutrinos in xenon "
            "at given recoil energies.\n\n" + _models_help()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", choices=list(MODELS), help="interaction model")
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="model parameter in its unit, e.g. mu_nu=1e-10 (default: the typical value above)",
    )
    parser.add_argument("--flavour", default="all", choices=FLAVOUR_CHOICES)
    parser.add_argument(
        "--treatment",
        default=None,
        help=f"model treatment ({'|'.join(treatment_names())}; default: the model's first)",
    )
    parser.add_argument("--mediator-mass-mev", type=float, default=None, help="mediator mass [MeV]")
    parser.add_argument("--atomic", default="stepping", choices=ATOMIC_MODELS)
    parser.add_argument(
        "--rrpa-table", default=None, help="'energy_kev ratio' file (--atomic rrpa_table)"
    )
    parser.add_argument("--flux-set", default="xmass", choices=list(FLUX_SETS))
    parser.add_argument("--composition", default="xmass", choices=FLAVOUR_COMPOSITIONS)
    parser.add_argument("--sin2-theta-w", type=float, default=PhysicsSettings.sin2_theta_w)
    parser.add_argument(
        "--radiative-corrections", action="store_true", help="Bahcall-Kamionkowski-Sirlin couplings"
    )
    parser.add_argument(
        "--energies-kev",
        default=_DEFAULT_ENERGIES,
        help=f"'E1,E2,...' or 'start:stop:step' in keV (default {_DEFAULT_ENERGIES})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", default=None, metavar="FILE", help="write a log-log figure")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``exonu rate``; returns the exit code (2 for invalid input)."""
    try:
        settings = PhysicsSettings(
            flux_set=args.flux_set,
            flavour_composition=args.composition,
            sin2_theta_w=args.sin2_theta_w,
            radiative_corrections=args.radiative_corrections,
            atomic_model=args.atomic,
            rrpa_table=args.rrpa_table,
        )
        params = _parse_params(args.param, args.model)
        energies = parse_energies(args.energies_kev)
        if args.plot:
            check_plot_path(args.plot)
        sm = standard_model_rate(energies, settings)
        basis = signal_basis(
            args.model,
            energies,
            settings,
            flavour=args.flavour,
            mediator_mass_mev=args.mediator_mass_mev,
            treatment=args.treatment,
        )
        value = next(iter(params.values()), 0.0)
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below
            excess = basis.excess(value)
        if not (np.all(np.isfinite(sm)) and np.all(np.isfinite(excess))):
            what = ", ".join(f"{k}={v:g}" for k, v in params.items()) or "the energies"
            raise PhysicsError(
                f"--param {what}: the rates overflow (not finite numbers); expected a smaller value"
            )
        if args.plot:
            from exonu.physics.plot import plot_rate_spectra

            grid = energies
            if energies.size < 20:
                low, high = (energies.min(), energies.max())
                if high <= low:
                    low, high = 1.0, 250.0
                grid = np.geomspace(low, high, 200)
            plot_excess = signal_basis(
                args.model,
                grid,
                settings,
                flavour=args.flavour,
                mediator_mass_mev=args.mediator_mass_mev,
                treatment=args.treatment,
            ).excess(value)
            label = args.model + "".join(f", {k}={v:g}" for k, v in params.items())
            from exonu.stages.runtime import atomic_output

            try:
                # written under a temporary name and renamed when complete
                with atomic_output(args.plot) as tmp:
                    plot_rate_spectra(
                        tmp,
                        grid,
                        standard_model_rate(grid, settings),
                        plot_excess if params else None,
                        label=label,
                        title=(
                            f"flavour {args.flavour}, atomic {args.atomic}, "
                            f"flux set {args.flux_set}"
                        ),
                        fmt=Path(args.plot).suffix.lstrip(".").lower() or "png",
                    )
            except OSError as err:
                raise PhysicsError(f"--plot {args.plot}: cannot write ({err.strerror})") from None
    except PhysicsError as error:
        print(f"exonu rate: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        document = {
            "model": args.model,
            "params": params,
            "unit": basis.unit,
            "flavour": args.flavour,
            "treatment": basis.treatment,
            "mediator_mass_mev": basis.mediator_mass_mev,
            "settings": settings.to_mapping(),
            "energy_kev": energies.tolist(),
            "sm": sm.tolist(),
            "exotic_excess": excess.tolist(),
            "total": (sm + excess).tolist(),
            "units": RATE_UNIT,
        }
        if args.plot:
            document["plot"] = str(args.plot)
        print(json.dumps(document, indent=1, allow_nan=False))
    else:
        header = f"# {args.model} {params} flavour={args.flavour} rates in {RATE_UNIT}"
        print(header)
        print(f"{'energy_kev':>12s} {'sm':>14s} {'exotic_excess':>14s} {'total':>14s}")
        for row in zip(energies, sm, excess, sm + excess, strict=True):
            print(f"{row[0]:12.4g} {row[1]:14.6e} {row[2]:14.6e} {row[3]:14.6e}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point with only the ``rate`` subcommand."""
    from exonu.cli import OneLineParser

    parser = OneLineParser(prog="exonu", description="exonu physics commands")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
