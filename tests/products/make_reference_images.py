"""Regenerate the reference images of test_figures.py from the fixed documents of docs.py.

Run from the repository root after an intended change of a figure, look at every image,
and commit them with the change:

    .venv/bin/python tests/products/make_reference_images.py

The images are drawn at 50 dpi with the default style (ATLAS) to keep them small.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
PLOTS = {"style": "ATLAS", "dpi": 50}


def cases():
    """(file name, figure function, document) of every reference image."""
    sys.path.insert(0, str(HERE))
    import docs

    from exonu.products import figures

    return [
        ("model_spectra.png", figures.model_spectra_figure, docs.model_spectra_doc()),
        ("fit.png", figures.fit_figure, docs.spectrum_doc()),
        ("millicharge_limits.png", figures.millicharge_figure, docs.millicharge_scan_doc()),
        ("exclusion.png", figures.exclusion_figure, docs.dark_photon_scan_doc()),
        (
            "exclusion_no_expected.png",
            figures.exclusion_figure,
            docs.dark_photon_scan_doc(expected=False),
        ),
        ("delta_chi2.png", figures.delta_chi2_figure, docs.curves_doc()),
        ("contour.png", figures.contour_figure, docs.contour_doc()),
    ]


def main() -> None:
    REFERENCE.mkdir(exist_ok=True)
    for name, draw, doc in cases():
        draw(doc, [REFERENCE / name], PLOTS)
        print(REFERENCE / name)


if __name__ == "__main__":
    main()
