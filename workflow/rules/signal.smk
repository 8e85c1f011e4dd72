"""Physics: coefficient spectra of each signal hypothesis (no detector)."""


rule signal_spectrum:
    """dN/dT of one hypothesis as a polynomial in its coupling, on the true-energy bins."""
    output:
        f"{RESULTS}/signals/{{signal}}.json",
    log:
        f"{RESULTS}/logs/signal/{{signal}}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=lambda w: {
            "physics": subtree("physics"),
            "signal": signal_entry(w.signal),
            "true_energy_kev": subtree("binning", "true_energy_kev"),
        },
    script:
        "../../scripts/signal_spectrum.py"
