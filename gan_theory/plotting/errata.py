"""``errata``: each erratum of the claims, the stated form failing beside the corrected form
holding, with the numbers of ``gan-theory check``.

The data are the :class:`~gan_theory.claims.Erratum` results of the claims that carry errata
(G2: the range of the JSD; G5: the log(1 - D) sentence; G8: swapped labels; G10: the
best-response map), computed by :func:`gan_theory.claims.run` exactly as ``gan-theory check``
computes them. Each row shows the two measurements against their pass conditions: the stated
form's measurement misses its condition, the corrected form's meets it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


from .style import COLORS, new_figure

__all__ = ["ERRATA_CLAIMS", "ErratumRow", "ErrataData", "errata_data", "plot_errata"]

#: The claims that carry errata (``Claim.errata``), in the order of the catalogue.
ERRATA_CLAIMS = ("G2", "G5", "G8", "G10")


@dataclass(frozen=True)
class FormCheck:
    text: str            # the form, in words
    measured: str        # what was measured
    value: float
    condition: str
    tolerance: float
    passed: bool


@dataclass(frozen=True)
class ErratumRow:
    claim: str
    title: str
    stated: FormCheck
    corrected: FormCheck
    behaves: bool        # the stated form fails and the corrected one holds


@dataclass(frozen=True)
class ErrataData:
    rows: tuple[ErratumRow, ...]
    seed: int


def errata_data(*, quick: bool = False, device: str = "cpu", seed: int = 0) -> ErrataData:
    """Run the claims with errata (default, not ``--full``, checks) and keep their errata.

    ``quick`` changes nothing here: the default checks of these claims take seconds.
    """
    from gan_theory.claims import CLAIMS, CheckContext, run

    ids = [cid for cid in ERRATA_CLAIMS if CLAIMS[cid].errata]
    results = run(ids, CheckContext(full=False, device=device, seed=seed))
    rows = []
    for res in results:
        if res.error is not None:
            raise RuntimeError(f"claim {res.id} could not be checked: {res.error}")
        for e in res.errata:
            def form(text, r):
                return FormCheck(text, r.measured, float(r.value), r.condition, float(r.tolerance), bool(r.passed))
            rows.append(ErratumRow(res.id, res.title, form(e.stated, e.stated_route),
                                   form(e.corrected, e.corrected_route), bool(e.passed)))
    return ErrataData(tuple(rows), seed)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def _measurement(f: FormCheck) -> str:
    verdict = "meets" if f.passed else "misses"
    return (f"{f.measured}: {_fmt(f.value)}; {verdict} the condition "
            f"\"{f.condition}\" (bound {_fmt(f.tolerance)})")


def plot_errata(data: ErrataData):
    """One card per erratum: the stated form (fails) and the corrected form (holds), each with the
    check's measurement against its condition."""
    from matplotlib.patches import FancyBboxPatch

    cards = []
    for row in data.rows:
        verdict = "as the catalogue says" if row.behaves else "NOT as the catalogue says"
        block = [(f"{row.claim}: {row.title} (erratum behaves {verdict})", "black", 9.5, "bold", "")]
        for label, f, color, mark in (("Stated", row.stated, COLORS["disc"], "\u2717"),
                                      ("Corrected", row.corrected, COLORS["generator"], "\u2713")):
            head = "fails" if not f.passed else "holds"
            block.append((textwrap.fill(f"{label} ({head}): \u201c{f.text}\u201d", 88), color, 9.0, "normal", mark))
            block.append((textwrap.fill(_measurement(f), 104), "0.3", 7.8, "normal", ""))
        cards.append(block)
    heights = [sum(0.17 * (b[0].count("\n") + 1) * b[2] / 9 + 0.05 for b in card) + 0.18 for card in cards]
    fig = new_figure(sum(heights) + 0.5)
    fig.suptitle(f"Errata of the claims, with the numbers of gan-theory check (seed {data.seed}): "
                 "the stated form fails, the corrected form holds", fontsize=9.5)
    ax = fig.add_subplot()
    ax.axis("off")
    total = sum(heights)
    ax.set_xlim(-0.004, 1.004)
    ax.set_ylim(0, total)
    y = total
    for card, h in zip(cards, heights):
        ax.add_patch(FancyBboxPatch((0.0, y - h + 0.04), 1.0, h - 0.08, boxstyle="round,pad=0.005,rounding_size=0.02",
                                    fc="0.97", ec="0.75", lw=0.8, mutation_aspect=1 / 8))
        yy = y - 0.1
        for body, color, size, weight, mark in card:
            if mark:
                ax.text(0.012, yy, mark, color=color, fontsize=12, fontweight="bold", va="top", ha="left")
            ax.text(0.045, yy, body, color=color, fontsize=size, fontweight=weight, va="top", ha="left",
                    linespacing=1.15)
            yy -= 0.17 * (body.count("\n") + 1) * size / 9 + 0.05
        y -= h
    return fig
