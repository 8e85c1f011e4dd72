"""The tiny workflow through a real SLURM cluster: slurm and cluster-generic profiles.

Starts a one-node SLURM cluster on this machine (installing Debian's slurm and
munge packages when missing), runs ``config/tiny.yaml`` through
``config/profiles/slurm`` (snakemake-executor-plugin-slurm) and through
``config/profiles/cluster-generic`` (sbatch/squeue submit and status commands),
and checks that the products are identical to a local run. The daemons are
stopped by PID at the end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from wfhelpers import REPO, run_snakemake

from farm.slurm_cluster import ClusterUnavailable, SlurmCluster

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        c = SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    except ClusterUnavailable as err:
        pytest.skip(f"no SLURM cluster here: {err}")
    yield c
    c.stop()


def _products(workdir: Path) -> dict[str, object]:
    """What must not depend on where the jobs ran: limits and the workspace."""
    res = workdir / "results" / "tiny"
    out: dict[str, object] = {
        "workspace": (res / "workspace.json").read_bytes(),
    }
    for path in sorted((res / "limits").glob("*.json")) + sorted((res / "fits").glob("*.json")):
        if path.name.endswith(".prov.json"):
            continue  # provenance records host and time
        doc = json.loads(path.read_text())
        out[f"{path.parent.name}:{path.name}"] = {
            k: v for k, v in doc.items() if k not in ("n_fits",)
        }
    for path in sorted((res / "hists").glob("*.root")):
        out[f"cutflow:{path.stem}"] = json.loads(path.with_suffix(".json").read_text())["cutflow"]
    return out


#: targets whose jobs produce everything :func:`_products` compares: the cut flows, the
#: workspace, the fit of every configured signal and the limits of every scan
COMPARED_TARGETS = [
    "results/tiny/tables/cutflow.md",
    "results/tiny/fits/magnetic_moment.json",
    "results/tiny/tables/millicharge.md",
    "results/tiny/tables/dark_photon_bl.md",
]


def _profile_copy(workdir: Path, name: str) -> Path:
    """Profiles are looked up relative to the work directory: copy the repository's."""
    dest = workdir / "config" / "profiles" / name
    shutil.copytree(REPO / "config" / "profiles" / name, dest)
    return dest


@pytest.mark.parametrize(
    ("profile", "extra"),
    [
        ("slurm", ["--slurm-init-seconds-before-status-checks", "1"]),
        ("cluster-generic", []),
    ],
)
def test_tiny_run_on_slurm_matches_local(cluster, tiny_run, tmp_path, profile, extra):
    _profile_copy(tmp_path, profile)
    proc = run_snakemake(
        tmp_path,
        "--profile",
        f"config/profiles/{profile}",
        "--jobs",
        "4",
        "--seconds-between-status-checks",
        "1",  # tests poll fast; the profiles keep the default
        *extra,
        *COMPARED_TARGETS,  # the analysis up to what is compared (figures are tested locally)
        env=cluster.env,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}\n{cluster.logs()[-2000:]}"
    )
    assert _products(tmp_path) == _products(tiny_run)
