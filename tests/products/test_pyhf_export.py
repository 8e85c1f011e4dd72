"""The pyhf export is exonu's model: pyhf, profiling it independently, reproduces exonu.

exonu's ``likelihood="poisson"`` with its Monte-Carlo-statistics treatment is the HistFactory
model the export writes (:mod:`exonu.products.pyhf_export`): the MC statistics exactly (the
default ``barlow_beeston_lite``: one staterror factor per bin and sample), the activity
constraints approximately (``normsys``, pyhf's code4 interpolation, where XMASS eq. 7 is
Gaussian in the activity). pyhf (jax backend for its gradients: the default's
magnetic-moment fit has ~3400 parameters) profiles the exported workspace and must reproduce
exonu's Poisson profile result recorded in the sidecar (``exonu_reference``):

* the best fit within 0.02 in the coupling's natural unit (the decade of its limit, e.g.
  10⁻¹⁰ μ_B): pyhf's profile at exonu's best fit is not above its values 0.02 on either
  side (to 5·10⁻⁴ in Δχ², the precision of pyhf's minimisers at the flat bottom);
* the 90 % CL profile limit (Δχ² = 2.706) within 1 %: pyhf's Δχ² crosses 2.706 between 0.99
  and 1.01 times exonu's limit.

The activity constraints are exact too (to 10⁻⁴: an auxiliary channel, see the module),
so the agreement is at the level of the fits' precision. Measured on the default (slow
tests): μ_ν best fit 1.853e-10 μ_B, limit 2.7798e-10 μ_B, pyhf's Δχ² = 2.706 crossing at
0.9998 of it, Δχ²(0) 1.7416 (exonu 1.7394); q_ν 1.799e-11 e, limit 2.8637e-11 e, crossing at
0.9998, Δχ²(0) 1.1525 (1.1508); B−L at 1 keV, χ²(g) − χ²(0) at 0.5, 1 and 1.5 times exonu's
limit: pyhf −0.136, 2.526, 49.358, exonu −0.134, 2.528, 49.359.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pyhf = pytest.importorskip("pyhf")

from exonu.products.pyhf_export import (  # noqa: E402
    NotExpressible,
    exonu_reference,
    expressible_powers,
    pyhf_metadata,
    pyhf_patchset,
    pyhf_workspace,
)
from exonu.stats import BinnedModel, load_workspace, make_synthetic_workspace  # noqa: E402
from exonu.stats.workspace import Workspace  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return make_synthetic_workspace(
        n_bins=12,
        n_backgrounds=3,
        n_systematics=2,
        seed=3,
        signals=("magnetic_moment", "dark_photon"),
        counts_per_bin=400.0,
        mc_weight=0.3,
        n_free=1,
        inject={"magnetic_moment": 1.0},
    )


# -- pyhf as the independent profiler ----------------------------------------------------


def _backend() -> None:
    try:
        import jax  # noqa: F401
    except ImportError:
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    else:
        pyhf.set_backend("jax", pyhf.optimize.scipy_optimizer())


def _twice_nll(model, data, mu: float | None = None, starts=(), standard=True):  # type: ignore[no-untyped-def]
    """pyhf's minimum of −2 ln L, free or at POI = mu: the lowest of several minimisers,
    and the parameters where it was found.

    Along the flat directions of these fits one scipy minimiser can stop 10⁻³ above the
    minimum; the profile is the lowest value any of them finds: L-BFGS-B with tight
    tolerances, TNC and, for small models (it is dense, cubic in the number of parameters),
    SLSQP; and L-BFGS-B started from each of ``starts`` (the fitted parameters of nearby
    points of the same profile, so that no point ends higher than its neighbour's minimum
    allows).
    """
    tight = {"ftol": 1e-15, "gtol": 1e-10, "maxcor": 50}
    attempts: list[tuple[str, dict[str, float], object]] = []
    if standard:
        attempts += [("L-BFGS-B", tight, None), ("L-BFGS-B", {}, None), ("TNC", {}, None)]
    if standard and model.config.npars < 600:
        attempts.append(("SLSQP", {}, None))
    attempts += [("L-BFGS-B", tight, start) for start in starts]
    found, errors = [], []
    for method, solver_options, start in attempts:
        kwargs = {"method": method, "solver_options": solver_options, "return_fitted_val": True}
        if start is not None:
            kwargs["init_pars"] = [float(v) for v in start]
        try:
            if mu is None:
                pars, val = pyhf.infer.mle.fit(data, model, **kwargs)
            else:
                pars, val = pyhf.infer.mle.fixed_poi_fit(mu, data, model, do_stitch=True, **kwargs)
            found.append((float(val), [float(v) for v in pars]))
        except pyhf.exceptions.FailedMinimization as err:
            # a line search that cannot improve any more ends "abnormally" at the minimum
            res = getattr(err, "result", None)
            fun = float(res.fun) if res is not None else math.nan
            if "ABNORMAL" in str(err) and math.isfinite(fun):
                found.append((fun, [float(v) for v in res.x]))
            errors.append(f"{method}: {str(err)[:60]}")
    if not found and standard:
        raise AssertionError(f"pyhf could not fit POI = {mu}: {errors}")
    return min(found, key=lambda vp: vp[0], default=(math.inf, None))


def _natural_unit(value: float) -> float:
    return 10.0 ** math.floor(math.log10(abs(value)))


def check_pyhf_reproduces(ws: Workspace, signal: str) -> dict[str, float]:
    """pyhf on the export vs exonu's reference: best fit within 0.02 natural units, limit
    within 1 %. Returns the numbers (for the messages)."""
    _backend()
    ref = exonu_reference(ws, signal)
    sig = ws.signal(signal)
    p, scale = ref["power"], sig.scale
    workspace = pyhf.Workspace(pyhf_workspace(ws, signal))
    model = workspace.model()
    data = workspace.data(model)
    x_hat, x_ul = ref["best_fit"] / scale, ref["upper_limit"] / scale
    step = 0.02 * _natural_unit(ref["upper_limit"]) / scale
    xs = sorted({max(x_hat - step, 0.0), x_hat, x_hat + step, 0.0, 0.99 * x_ul, 1.01 * x_ul})
    first = {x: _twice_nll(model, data, x**p) for x in xs}
    # every point once more from its neighbours' minima (a fit stuck on the flat bottom is
    # freed by a start at a nearby point's solution)
    nll = {}
    for k, x in enumerate(xs):
        near = [first[y][1] for y in xs[max(k - 1, 0) : k + 2] if y != x]
        nll[x] = min(first[x][0], _twice_nll(model, data, x**p, starts=near, standard=False)[0])
    nll_min = min(_twice_nll(model, data)[0], *nll.values())
    q = {x: v - nll_min for x, v in nll.items()}
    out = {
        "q_best": q[x_hat],
        "q_best_minus": q[max(x_hat - step, 0.0)],
        "q_best_plus": q[x_hat + step],
        "exonu_best": ref["best_fit"],
        "exonu_limit": ref["upper_limit"],
        "exonu_q0": ref["chi2_zero"] - ref["chi2_best"],
        "pyhf_q0": q[0.0],
        "pyhf_q_limit_minus": q[0.99 * x_ul],
        "pyhf_q_limit_plus": q[1.01 * x_ul],
    }
    # pyhf's profile minimum lies within 0.02 natural units of exonu's best fit
    # the precision of pyhf's minimisers at the flat bottom of these profiles (their values
    # at μ = 0 and μ = 2e-8 differ by 2e-4 on the default's millicharge fit)
    tol = 5e-4
    assert q[x_hat] <= q[max(x_hat - step, 0.0)] + tol, out
    assert q[x_hat] <= q[x_hat + step] + tol, out
    # and its Δχ² = 2.706 crossing within 1 % of exonu's limit
    thr = ref["q_threshold"]
    assert q[0.99 * x_ul] < thr < q[1.01 * x_ul], out
    assert abs(out["pyhf_q0"] - out["exonu_q0"]) < 0.05, out
    return out


# -- structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("mc_statistics", ["barlow_beeston_lite", "histfactory", "barlow_beeston"])
def test_structure(ws: Workspace, mc_statistics: str) -> None:
    spec = pyhf_workspace(ws, "magnetic_moment", mc_statistics=mc_statistics)
    model = pyhf.Workspace(spec).model()  # validates the schema and builds
    channel = spec["channels"][0]
    samples = {s["name"]: s for s in channel["samples"]}
    lite = mc_statistics == "barlow_beeston_lite"
    free = set(ws.signal("magnetic_moment").free_backgrounds)
    for bkg in ws.backgrounds:
        sample = samples[bkg.name]
        kinds = {m["type"]: m["name"] for m in sample["modifiers"]}
        assert kinds["normfactor"] == f"p_{bkg.name}"  # constrained in activity_constraints
        assert "normsys" not in kinds
        if mc_statistics == "histfactory":
            assert kinds["staterror"] == "mcstat"  # one factor per bin, shared
        elif lite:
            assert kinds["staterror"] == f"mcstat_{bkg.name}"  # one per bin and template
        else:
            assert kinds["shapesys"] == f"mcstat_{bkg.name}"
        # lite: the MC factors multiply the nominal template only; the shifts sit on a
        # zero-nominal companion with the same activity modifier
        mask = ws.signal("magnetic_moment").fit_mask
        shifted = any(
            bkg.name in bs.shifts and np.any(np.asarray(bs.shifts[bkg.name])[mask])
            for bs in ws.background_systematics
        )
        assert ("histosys" in kinds) == (shifted and not lite)
        assert (f"{bkg.name}_shifts" in samples) == (shifted and lite)
        if lite and shifted:
            companion = samples[f"{bkg.name}_shifts"]
            assert not any(companion["data"])
            scale = [m for m in sample["modifiers"] if m["type"] in ("normfactor", "normsys")]
            assert companion["modifiers"][: len(scale)] == scale
            assert {m["type"] for m in companion["modifiers"][len(scale) :]} == {"histosys"}
    assert any(name.endswith("_shifts") for name in samples) == lite
    signal_mods = {m["type"]: m["name"] for m in samples["magnetic_moment"]["modifiers"]}
    assert signal_mods["normfactor"] == "mu_magnetic_moment"
    assert signal_mods["shapesys" if mc_statistics == "barlow_beeston" else "staterror"] == (
        "mcstat_magnetic_moment"
    )
    assert model.config.poi_name == "mu_magnetic_moment"
    assert model.config.channel_nbins["synthetic"] == ws.signal("magnetic_moment").fit_mask.sum()
    constrained = [b.name for b in ws.backgrounds if b.name not in free]
    assert model.config.channel_nbins["activity_constraints"] == len(constrained)
    meta = pyhf_metadata(ws, "magnetic_moment", mc_statistics=mc_statistics)
    assert meta["power"] == 2 and meta["scale"] == 1e-10
    assert meta["mc_statistics"] == mc_statistics
    assert len(meta["edges_kev"]) == model.config.channel_nbins["synthetic"] + 1


def test_polynomial_signal_is_a_patchset(ws: Workspace) -> None:
    assert expressible_powers((2,)) and not expressible_powers((2, 4))
    with pytest.raises(NotExpressible, match=r"powers \[2, 4\]"):
        pyhf_workspace(ws, "dark_photon")
    spec, base = pyhf_patchset(ws, "dark_photon", [0.5e-6, 1e-6])
    patchset = pyhf.PatchSet(spec)  # schema
    patchset.verify(base)  # digest of the background-only workspace
    assert len(patchset) == 2 and patchset.labels == ["g_BL", "mediator_mass_mev"]
    model = pyhf.Workspace(patchset.apply(base, patchset.patches[1].name)).model()
    sig = ws.signal("dark_photon")
    values = sig.expected(1.0)[sig.fit_mask]  # the signal at x = 1e-6 / scale = 1
    main = model.config.channel_slices["synthetic"]
    background = sum(np.asarray(b.expected)[sig.fit_mask] for b in ws.backgrounds)
    pars = np.array(model.config.suggested_init())  # POI init 0: background only
    assert model.expected_actualdata(pars)[main] == pytest.approx(background)
    pars[model.config.poi_index] = 1.0
    assert model.expected_actualdata(pars)[main] == pytest.approx(background + values)
    # per patch, pyhf's 2Δ(−ln L) between the hypothesis (μ = 1) and no signal is exonu's
    # χ²(g) − χ²(0) at that coupling
    _backend()
    ref = exonu_reference(ws, "dark_photon", couplings=[0.5e-6, 1e-6])
    for patch, point in zip(patchset, ref["points"], strict=True):
        workspace = pyhf.Workspace(patch.apply(base))
        model = workspace.model()
        data = workspace.data(model)
        q = _twice_nll(model, data, 1.0)[0] - _twice_nll(model, data, 0.0)[0]
        assert q == pytest.approx(point["chi2_minus_zero"], abs=0.02), (patch.name, q, point)


def test_lite_profile_equals_exonu_at_fixed_activities(ws: Workspace) -> None:
    """The MC-statistics treatment is exact: at fixed activities, systematic pulls and
    coupling, pyhf's −2 ln L minimised over its staterror factors alone (one per bin and
    sample) equals exonu's closed-form cost minus exonu's pull terms plus pyhf's, up to a
    constant (the Poisson and Gaussian normalisations)."""
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    model_x = BinnedModel(ws, "magnetic_moment", "poisson")
    spec = pyhf_workspace(ws, "magnetic_moment")
    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    data = workspace.data(model)
    results = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        theta = model_x.nominal.copy()
        theta[0] = 1.3
        pars = np.array(model.config.suggested_init(), dtype=float)
        fixed = [False] * model.config.npars
        for i, info in enumerate(model_x.parameters[1:], start=1):
            if info.kind == "activity":
                theta[i] = 1.0 + rng.normal(0, 0.1)
                key, value = info.name, theta[i]
            else:
                theta[i] = rng.normal(0, 0.5)
                key, value = info.name, theta[i]
            s = model.config.par_slice(key)
            pars[s] = value
            fixed[s.start] = True
        pars[model.config.poi_index] = theta[0] ** 2
        fixed[model.config.poi_index] = True
        val = float(
            pyhf.infer.mle.fit(
                data, model, init_pars=pars.tolist(), fixed_params=fixed, return_fitted_val=True
            )[1]
        )
        # pyhf's constraint terms of the fixed pulls (histosys: α²) and exonu's pull terms:
        # the activity constraints (channel activity_constraints) stay in both
        aux = sum(
            float(pars[model.config.par_slice(n)][0]) ** 2
            for n in model.config.par_names
            if n.startswith(("q_", "r_"))
        )
        pulls_qr = float(np.sum(theta[model_x._sl_q.start :] ** 2))  # q_k² + r_l²
        results.append(val - aux - (model_x(theta) - pulls_qr))
    # the same constant at both points: the likelihoods differ by a constant only
    assert results[0] == pytest.approx(results[1], abs=1e-3)


def test_exonu_reference_and_metadata(ws: Workspace) -> None:
    ref = exonu_reference(ws, "magnetic_moment", couplings=[0.0, 1e-10, 2e-10])
    assert ref["q_threshold"] == pytest.approx(2.7055, abs=1e-4)
    assert ref["best_fit_poi"] == pytest.approx((ref["best_fit"] / 1e-10) ** 2)
    assert ref["upper_limit_poi"] == pytest.approx((ref["upper_limit"] / 1e-10) ** 2)
    assert ref["chi2_best"] <= ref["chi2_zero"]
    zero = ref["points"][0]
    assert zero["chi2_minus_zero"] == pytest.approx(0.0, abs=1e-6)
    assert zero["delta_chi2"] == pytest.approx(ref["chi2_zero"] - ref["chi2_best"], abs=1e-6)
    meta = pyhf_metadata(ws, "magnetic_moment", reference=ref)
    assert meta["exonu_reference"]["upper_limit"] == ref["upper_limit"]
    assert "staterror per sample" in " ".join(meta["equivalence"]["same"])
    assert meta["mc_statistics"] == "barlow_beeston_lite"
    json.dumps(meta)


def test_pyhf_reproduces_exonu_on_a_synthetic_model(ws: Workspace) -> None:
    check_pyhf_reproduces(ws, "magnetic_moment")


# -- the tiny configuration (workflow) and the default (slow) ----------------------------------


def _scan_hypothesis_workspace(run: Path, analysis: str, config: str, scan: str) -> tuple:
    """The workspace of the first hypothesis of ``scan`` as its scan shard builds it."""
    from exonu.config import read_config_file, validate_config
    from exonu.detector.geometry import fiducial_mass_kg
    from exonu.templates.hypotheses import (
        auto_scale,
        hypotheses,
        hypothesis_spectrum,
        hypothesis_workspace,
        load_response,
    )
    from exonu.templates.signals import signal_workspace_entry

    cfg = validate_config(read_config_file(REPO / config))
    base = load_workspace(run / "results" / analysis / "workspace.json")
    resp = load_response(
        run / "results" / analysis / "templates" / "response.root",
        fiducial_mass_kg(float(cfg["detector"]["radius_cm"])),
        float(base.livetime_s),
    )
    hyp = hypotheses(scan, cfg["scans"][scan])[0]
    spec = hyp.spec()
    spectrum = hypothesis_spectrum(spec, cfg["physics"], resp.response.true_edges)
    if spec["scale"] == "auto":
        spec["scale"] = auto_scale(spectrum, resp, hyp.fit_window_kev)
    entry = signal_workspace_entry(
        spec,
        spectrum,
        resp.response,
        resp.target_mass_kg,
        resp.livetime_s,
        cfg["binning"]["systematic_regions_kev"],
    )
    return hypothesis_workspace(base, entry), hyp.name


@pytest.mark.workflow
def test_tiny_export_is_exonu(tiny_run: Path) -> None:
    """The tiny run's exported magnetic-moment workspace and its sidecar, and the
    millicharge (a scan hypothesis of the tiny configuration), reproduced by pyhf."""
    res = tiny_run / "results" / "tiny"
    spec = json.loads((res / "products" / "pyhf" / "magnetic_moment.json").read_text())
    meta = json.loads((res / "products" / "pyhf" / "magnetic_moment.meta.json").read_text())
    ws = load_workspace(res / "workspace.json")
    assert spec == pyhf_workspace(ws, "magnetic_moment")
    assert meta["exonu_reference"]["upper_limit"] == pytest.approx(
        exonu_reference(ws, "magnetic_moment")["upper_limit"], rel=1e-6
    )
    check_pyhf_reproduces(ws, "magnetic_moment")
    mc_ws, name = _scan_hypothesis_workspace(tiny_run, "tiny", "config/tiny.yaml", "millicharge")
    check_pyhf_reproduces(mc_ws, name)


def _default_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wfhelpers import run_snakemake

    work = tmp_path_factory.mktemp("default")
    proc = run_snakemake(work, "--cores", "2", "results/default/workspace.json", configfile=())
    if proc.returncode != 0:
        pytest.fail(f"snakemake failed:\n{proc.stderr[-4000:]}")
    return work


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _default_workspace(tmp_path_factory)


@pytest.mark.slow
@pytest.mark.workflow
@pytest.mark.parametrize("signal", ["magnetic_moment", "millicharge"])
def test_default_export_is_exonu(default_run: Path, signal: str) -> None:
    ws = load_workspace(default_run / "results" / "default" / "workspace.json")
    out = check_pyhf_reproduces(ws, signal)
    assert out["exonu_limit"] > 0


@pytest.mark.slow
@pytest.mark.workflow
def test_default_bl_patchset_reproduces_exonu(default_run: Path) -> None:
    """The B−L dark photon (g² interference + g⁴) at 1 keV as a PatchSet: pyhf validates it
    and, per patch, 2Δ(−ln L) between μ = 1 and μ = 0 reproduces exonu's χ²(g) − χ²(0) at
    three couplings (half, one and 1.5 times exonu's Poisson profile limit)."""
    _backend()
    ws = load_workspace(default_run / "results" / "default" / "workspace.json")
    signal = "dark_photon_1kev"
    first = exonu_reference(ws, signal)
    grid = [f * first["upper_limit"] for f in (0.5, 1.0, 1.5)]
    ref = exonu_reference(ws, signal, couplings=grid)
    spec, base = pyhf_patchset(ws, signal, grid)
    patchset = pyhf.PatchSet(spec)
    patchset.verify(base)
    assert patchset.labels[1] == "mediator_mass_mev"
    for patch, point in zip(patchset, ref["points"], strict=True):
        assert patch.values[0] == pytest.approx(point["coupling"])
        workspace = pyhf.Workspace(patch.apply(base))
        model = workspace.model()
        data = workspace.data(model)
        q = _twice_nll(model, data, 1.0)[0] - _twice_nll(model, data, 0.0)[0]
        assert q == pytest.approx(point["chi2_minus_zero"], abs=0.05), (patch.name, q, point)
    at_limit = ref["points"][1]
    assert at_limit["delta_chi2"] == pytest.approx(ref["q_threshold"], abs=0.01)
