"""Helpers of the external mode (included by external.smk): release check, params, products
(EXTERNAL_PRODUCTS: the external part of all_products() of common.smk).

The release is read and checked here, at parse time, so a bad file or config key stops the
run before any job (exonu.external.checks).
"""

from exonu.external.checks import check_external_config, unbinned_enabled
from exonu.external.errors import ReleaseError

try:
    _RELEASE = check_external_config(config)
except ReleaseError as err:
    raise SystemExit(f"exonu: invalid configuration: {err}")

RELEASE_FILES = [str(p) for p in _RELEASE.settings.files().values()]
EFFICIENCY_FILE = str(_RELEASE.settings.directory / _RELEASE.settings.efficiency_file)
TABLES = sorted(config["release"]["tables"])
COMPARED = list(config["release"]["comparison"]["signals"])
KHAN = bool(config["release"].get("khan_comparison", False))
SIGNIFICANT = list(config["release"].get("significance", {}).get("signals", []))
_unknown = sorted(set(SIGNIFICANT) - set(SIGNALS))
if _unknown:
    raise SystemExit(
        f"exonu: invalid configuration: config key 'release.significance.signals': "
        f"{_unknown} are not in the signals list {SIGNALS}"
    )
if KHAN and not TABLES:
    raise SystemExit(
        "exonu: invalid configuration: config key 'release.khan_comparison': true needs "
        "release.tables (the entries it compares with Khan's)"
    )
UNBINNED = unbinned_enabled(config)
FORMATS = config["plots"]["formats"]
# the release keys that define the binned/unbinned model (not tables, comparison, windows;
# normalisation: which components are constrained, free, fixed or off)
MODEL_KEYS = (
    "data",
    "backgrounds",
    "normalisation",
    "efficiency",
    "exposure",
    "resolution",
    "solar_nu",
)


def release_params(*keys):
    """``release_dir`` and the named sub-blocks of ``release`` (default: MODEL_KEYS)."""
    rel = subtree("release")
    return {
        "release_dir": config["release_dir"],
        "release": {k: rel[k] for k in (keys or MODEL_KEYS)},
    }


def physics_if_replaced():
    """The physics block, only when the SM is part of the background model."""
    return (
        {"physics": subtree("physics")}
        if config["release"]["solar_nu"]["replace"]
        else {}
    )


EXTERNAL_PRODUCTS = [
    *expand(
        f"{RESULTS}/tables/{{table}}.{{ext}}", table=TABLES, ext=["csv", "md", "tex"]
    ),
    *expand(f"{RESULTS}/figures/{{table}}.{{fmt}}", table=TABLES, fmt=FORMATS),
    *expand(f"{RESULTS}/figures/release_overview.{{fmt}}", fmt=FORMATS),
    *(
        expand(f"{RESULTS}/limits_unbinned/{{signal}}.json", signal=SIGNALS)
        if UNBINNED
        else []
    ),
    *(
        [
            *expand(f"{RESULTS}/tables/comparison.{{ext}}", ext=["csv", "md", "tex"]),
            *expand(f"{RESULTS}/figures/comparison.{{fmt}}", fmt=FORMATS),
        ]
        if COMPARED
        else []
    ),
    *(
        expand(f"{RESULTS}/tables/khan_comparison.{{ext}}", ext=["csv", "md", "json"])
        if KHAN
        else []
    ),
    *(
        expand(f"{RESULTS}/tables/significance.{{ext}}", ext=["csv", "md", "json"])
        if SIGNIFICANT
        else []
    ),
]
