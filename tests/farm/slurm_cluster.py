"""A real single-node SLURM cluster on this machine, for the farm tests.

Installs Debian's ``slurmctld slurmd slurm-client munge`` when missing (needs root
and apt), writes a ``slurm.conf`` for one node on 127.0.0.1 into a private
directory, starts ``munged``, ``slurmctld`` and ``slurmd`` in the foreground as
child processes (so their PIDs are known) and stops exactly those PIDs again.
Clients find the cluster through ``SLURM_CONF`` (see :attr:`SlurmCluster.env`).
Facts behind the configuration: ``../shared/notes/slurm-in-ci.md``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be started here (no root, no apt, daemons do not come up)."""


def ensure_installed() -> None:
    if all(shutil.which(b) for b in ("slurmctld", "slurmd", "sbatch", "munged")):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ClusterUnavailable("SLURM is not installed and cannot be installed (need root + apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=300
    )
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
        check=True,
        env=env,
        capture_output=True,
        timeout=600,
    )


def _node_line() -> str:
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    # over-subscribed: the jobs of the tiny workflow mostly wait for Python start-up, and
    # bundled group jobs request the summed threads of their components
    cpus = 8 * int(re.search(r"CPUs=(\d+)", out).group(1))
    memory = int(re.search(r"RealMemory=(\d+)", out).group(1))
    # more memory than slurmd sees drains the node: stay at 95 %
    return (
        f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={int(memory * 0.95)} "
        "State=UNKNOWN"
    )


class SlurmCluster:
    """Start/stop a one-node cluster whose files live in ``workdir``."""

    #: Where clients look without SLURM_CONF. The slurm executor plugin removes SLURM_*
    #: variables inside jobs, so `srun` in a job step only finds the cluster through it.
    DEFAULT_CONF = Path("/etc/slurm/slurm.conf")

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.conf = self.workdir / "slurm.conf"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._installed_default_conf = False

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_conf(self) -> None:
        d = self.workdir
        for sub in ("state", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=exonutest",
                    "SlurmctldHost=localhost",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    f"StateSaveLocation={d / 'state'}",
                    f"SlurmdSpoolDir={d / 'spool'}",
                    f"SlurmctldPidFile={d / 'slurmctld.pid'}",
                    f"SlurmdPidFile={d / 'slurmd.pid'}",
                    f"SlurmctldLogFile={d / 'slurmctld.log'}",
                    f"SlurmdLogFile={d / 'slurmd.log'}",
                    "SlurmctldPort=6817",
                    "SlurmdPort=6818",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core_Memory",
                    "DefMemPerCPU=1000",
                    "MinJobAge=600",
                    "ReturnToService=2",
                    "SchedulerType=sched/backfill",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "MpiDefault=none",
                    "SlurmdTimeout=60",
                    # accept the over-subscribed CPU count of the node line
                    "SlurmdParameters=config_overrides",
                    _node_line(),
                    "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def _start_munge(self) -> None:
        key = Path("/etc/munge/munge.key")
        run = Path("/run/munge")
        run.mkdir(parents=True, exist_ok=True)
        shutil.chown(run, "munge", "munge")
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_bytes(os.urandom(1024))
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
        sock = run / "munge.socket.2"
        if sock.exists() and subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
            return  # a munged is already serving (not ours: leave it alone)
        self.procs["munged"] = subprocess.Popen(
            [
                "setpriv",
                "--reuid=munge",
                "--regid=munge",
                "--init-groups",
                "munged",
                "-F",
                "--force",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "munged.log", "wb"),
        )
        self._wait(
            lambda: subprocess.run(["munge", "-n"], capture_output=True).returncode == 0, "munged"
        )

    def _wait(self, ready, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ClusterUnavailable(f"{name} exited with {proc.returncode}: {self.logs()}")
            time.sleep(0.3)
        raise ClusterUnavailable(f"{what} not ready after {timeout} s: {self.logs()}")

    def logs(self) -> str:
        text = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            p = self.workdir / name
            if p.exists():
                text.append(f"--- {name}\n" + p.read_text(errors="replace")[-1500:])
        return "\n".join(text)

    def _node_idle(self) -> bool:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env
        ).stdout
        return out.strip().startswith(("idle", "mixed", "allocated"))

    def start(self) -> SlurmCluster:
        ensure_installed()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        if self.DEFAULT_CONF.exists() and not self.DEFAULT_CONF.is_symlink():
            raise ClusterUnavailable(
                f"{self.DEFAULT_CONF} exists: a real cluster is configured here"
            )
        self.DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        if self.DEFAULT_CONF.is_symlink():
            self.DEFAULT_CONF.unlink()
        self.DEFAULT_CONF.symlink_to(self.conf)
        self._installed_default_conf = True
        self._start_munge()
        common = {"env": self.env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs["slurmctld"] = subprocess.Popen(
            ["slurmctld", "-D", "-i", "-f", str(self.conf)], **common
        )
        self.procs["slurmd"] = subprocess.Popen(
            ["slurmd", "-D", "-N", "localhost", "-f", str(self.conf)], **common
        )
        try:
            self._wait(self._node_idle, "SLURM node", timeout=60.0)
        except ClusterUnavailable:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the daemons this object started, by PID, newest first."""
        if self._installed_default_conf and self.DEFAULT_CONF.is_symlink():
            self.DEFAULT_CONF.unlink()
            self._installed_default_conf = False
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
