"""Paths, wildcard constraints and the params helpers shared by all rules."""

import json as _json

RESULTS = f"results/{config['analysis']}"
EVENTS_MODE = config["mode"] == "events"
CHUNKS = (
    [f"{c:03d}" for c in range(config["simulation"]["n_chunks"])] if EVENTS_MODE else []
)
BACKGROUNDS = sorted(config["simulation"]["backgrounds"]) if EVENTS_MODE else []
SIGNALS = [s["name"] for s in config["signals"]]
SCANS = sorted(config["scans"])
EXPECTED_SHARDS = (
    [f"{i:03d}" for i in range(config["fit"]["expected_shards"])]
    if config["fit"]["expected_toys"] > 0
    else []
)
# the detector response that signal hypotheses are folded with (XMASS eq. 3)
RESPONSE_FILE = (
    f"{RESULTS}/templates/response.root" if EVENTS_MODE else f"{RESULTS}/response.json"
)
# software of every job with --software-deployment-method conda (path relative to the rule files)
CONDA_ENV = "../../envs/exonu.yaml"
if EVENTS_MODE:
    from exonu.sim.samples import SIGNAL_MC, sample_kinds

    # sample -> kind (data, background, signal, variation) of every sample of the analysis
    KIND_OF = sample_kinds(config["simulation"])
else:
    SIGNAL_MC, KIND_OF = None, {}


wildcard_constraints:
    kind="data|background|signal",
    sample="[a-z0-9_]+",
    chunk=r"\d\d\d+",
    signal="[A-Za-z0-9_]+",
    scan="[a-z0-9_]+",
    shard=r"\d{3}",


def subtree(*keys):
    """A deep copy of config[keys...] as plain JSON data with sorted keys.

    Rules compare params between runs; sorting makes them independent of the order in
    which keys appear in the config files.
    """
    node = config
    for k in keys:
        node = node[k]
    return _json.loads(_json.dumps(node, sort_keys=True))


def simulation_params(wildcards):
    """Only what the simulated sample depends on (partial reruns): the detector, the seed,
    the chunking, and the config entries of the sample itself (data: every component).
    """
    from exonu.sim.samples import find_variation

    full = subtree("simulation")
    sim = {k: full[k] for k in ("seed", "n_chunks", "max_deposit_kev") if k in full}
    kind, sample = wildcards.kind, wildcards.sample
    nominal, nkind = sample, kind
    if kind == "variation":
        var = find_variation(full, sample)
        if var is None:
            raise ValueError(f"no variation sample {sample!r} in simulation.variations")
        nominal, nkind = var.nominal, var.nominal_kind
        entry = dict(full["variations"][var.source], samples=[nominal])
        sim["variations"] = {var.source: entry}
    if kind == "data":
        for k in ("livetime_days", "backgrounds", "data"):
            sim[k] = full[k]
    elif nkind == "background":
        sim["backgrounds"] = {nominal: full["backgrounds"][nominal]}
    else:
        sim["backgrounds"] = {}
        sim["signal_mc"] = full["signal_mc"]
    params = {"simulation": sim, "detector": subtree("detector")}
    uses_physics = kind == "data" or any(
        b["spectrum"]["shape"] == "solar_nu_sm" for b in sim["backgrounds"].values()
    )
    if uses_physics:
        params["physics"] = subtree("physics")
    return params


def plot_subtree():
    """Params of figure rules: drawing style and formats only (exonu.products.plan)."""
    from exonu.products.plan import plot_params

    return plot_params(config)


def selection_params():
    """What the selection of an event file depends on: cuts, histogram binning, calibration,
    PMT geometry (a change reruns selection and everything after it, nothing before)."""
    return {
        "selection": subtree("selection"),
        "binning": {
            k: subtree("binning", k) for k in ("energy_kev", "true_energy_kev")
        },
        "calibration": subtree("calibration"),
        "detector": {
            k: config["detector"][k] for k in ("radius_cm", "n_pmts", "dead_pmts")
        },
    }


def signal_entry(name):
    return next(s for s in subtree("signals") if s["name"] == name)


def _target_mass_kg():
    """Xenon mass the signal MC was generated in (events mode: the whole active volume)."""
    if not EVENTS_MODE:
        return None  # the external response file carries its exposure
    from exonu.detector.geometry import fiducial_mass_kg

    return fiducial_mass_kg(float(config["detector"]["radius_cm"]))


TARGET_MASS_KG = _target_mass_kg()


def scan_shards(scan):
    return [f"{i:03d}" for i in range(config["scans"][scan]["n_shards"])]


def scan_hypothesis_names(scan):
    from exonu.templates.hypotheses import hypotheses

    return [h.name for h in hypotheses(scan, config["scans"][scan])]


def scan_fitted(scan):
    """{hypothesis: signal} of the hypotheses of a scan that are configured signals (same
    model, flavour, mass, treatment, atomic model, composition, window, free backgrounds):
    their limit is fits/<signal>.json, not fitted again by the scan."""
    from exonu.templates.hypotheses import fitted_signals

    return fitted_signals(
        scan, subtree("scans", scan), subtree("signals"), subtree("physics")
    )


def _user_event_files():
    """inputs.event_files: sample -> the user's files (one chunk each), checked now."""
    if not EVENTS_MODE:
        return {}
    from exonu.config import ConfigError
    from exonu.io.inputs import resolve_event_files

    try:
        return resolve_event_files(config)
    except ConfigError as err:
        raise SystemExit(f"exonu: invalid configuration: {err}")


#: samples read from the user's files instead of being simulated
USER_EVENTS = _user_event_files()


def sample_chunks(sample):
    """Chunk labels of a sample: one per listed file, else simulation.n_chunks."""
    if sample in USER_EVENTS:
        return [f"{i:03d}" for i in range(len(USER_EVENTS[sample]))]
    return CHUNKS


def event_file(kind, sample, chunk):
    if sample in USER_EVENTS:
        return USER_EVENTS[sample][int(chunk)]
    return f"{RESULTS}/events/{kind}/{sample}/chunk_{chunk}.root"


def closure_backgrounds():
    """Background samples with at least two chunks (the half-split closure needs both)."""
    return [b for b in BACKGROUNDS if len(sample_chunks(b)) >= 2]


def merged_hist(sample):
    return f"{RESULTS}/hists/{sample}.root"


def event_products():
    """Everything the events chain writes that the README lists as a product: the simulated
    event files, the selected histograms per chunk and merged, the cut flows, the response.
    """
    samples = SELECTED_SAMPLES  # select.smk
    return [
        *[
            event_file(KIND_OF[s], s, c)
            for s in samples
            if s not in USER_EVENTS
            for c in sample_chunks(s)
        ],
        *[
            f"{RESULTS}/selection/{s}/chunk_{c}.{ext}"
            for s in samples
            for c in sample_chunks(s)
            for ext in ("root", "json")
        ],
        *[f"{RESULTS}/hists/{s}.{ext}" for s in samples for ext in ("root", "json")],
        f"{RESULTS}/tables/cutflow.md",
        f"{RESULTS}/tables/cutflow.json",
    ]


def all_products():
    """The default target: every product the README lists (a deleted one is made again), of
    the events mode or of the external mode."""
    fmts = config["plots"]["formats"]
    return [
        f"{RESULTS}/workspace.json",
        RESPONSE_FILE,
        *[f"{RESULTS}/signals/{s}.json" for s in SIGNALS],
        *[f"{RESULTS}/fits/{s}.json" for s in SIGNALS],
        *[f"{RESULTS}/tables/{s}.md" for s in SCANS],
        *PRODUCTS_TARGETS,  # figures, tables, HEPData, pyhf (products.smk)
        *(
            event_products() if EVENTS_MODE else EXTERNAL_PRODUCTS
        ),  # external_common.smk
        *(
            [
                *[
                    f"{RESULTS}/figures/{n}.{f}"
                    for n in ("backgrounds", "efficiency")
                    for f in fmts
                ],
                f"{RESULTS}/templates/dead_pmt_correction.json",
                *(
                    [f"{RESULTS}/tables/template_closure.md"]
                    if closure_backgrounds()
                    else []
                ),
            ]
            if EVENTS_MODE
            else []
        ),
    ]
