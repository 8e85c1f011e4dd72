"""Figures against reference images (matplotlib.testing.compare), from fixed documents.

The reference images in reference/ are drawn by make_reference_images.py from docs.py;
after an intended change of a figure, regenerate them (see that script) and look at them.
The tolerance (RMS of the pixel difference, 0-255) absorbs font rendering differences
between FreeType builds, not changes of content: a moved legend or line gives RMS > 10.
"""

from __future__ import annotations

import pytest

from .make_reference_images import PLOTS, REFERENCE, cases

TOLERANCE = 3.0


@pytest.mark.parametrize("name,draw,doc", cases(), ids=[c[0] for c in cases()])
def test_figure_matches_reference(name, draw, doc, tmp_path):
    from matplotlib.testing.compare import compare_images

    out = tmp_path / name
    draw(doc, [out], PLOTS)
    reference = REFERENCE / name
    assert reference.exists(), f"no reference image {reference}: run make_reference_images.py"
    diff = compare_images(str(reference), str(out), tol=TOLERANCE)
    assert diff is None, diff


def test_every_format_is_written(tmp_path):
    from docs import contour_doc

    from exonu.products.figures import contour_figure

    outs = [tmp_path / "c.png", tmp_path / "c.pdf", tmp_path / "c.svg"]
    contour_figure(contour_doc(), outs, {"style": "CMS"})
    assert all(p.stat().st_size > 1000 for p in outs)
    # no creation date in the PDF: the same inputs give the same bytes
    first = outs[1].read_bytes()
    contour_figure(contour_doc(), [outs[1]], {"style": "CMS"})
    assert outs[1].read_bytes() == first
