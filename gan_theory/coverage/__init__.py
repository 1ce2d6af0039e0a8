"""Mode coverage of a generator on a target with known modes, as the 2-D GAN papers report it.

The target is a mixture of ``M`` Gaussian components (the toys ``ring`` and ``grid``); each
component is a *mode*, with centre ``c_i``, covariance ``Sigma_i = L_i L_i^T`` and weight
``w_i``. The Mahalanobis distance of ``x`` to mode ``i`` is
``d_i(x) = ||L_i^{-1} (x - c_i)||``, and the *region* of mode ``i`` is the ellipse (interval in
1-D) ``E_i = {x : d_i(x) <= r}``, ``r = 3`` by default.

From samples of ``p_g`` (:func:`mode_coverage`), following the synthetic-data experiments of
Srivastava et al. (2017) and Lin et al. (2018), whose reference code assigns each sample to the
mode with the smallest (per-axis) Mahalanobis distance:

* a sample ``x`` is *high quality* when ``min_i d_i(x) <= r``, and then counts for its nearest
  mode ``argmin_i d_i(x)``. For isotropic modes, ``Sigma_i = s_i^2 I``, this is the papers'
  "within three standard deviations of the nearest mode"; here it is stated for any
  covariance;
* a mode is *captured* when at least ``threshold`` high-quality samples count for it (both
  papers: one sample, the default);
* the *high-quality fraction* is the number of high-quality samples over the number of samples;
* the *reverse KL* of the mode histogram is ``KL(q || w) = sum_i q_i log(q_i / w_i)``, ``q`` the
  high-quality counts normalised to 1 (Lin et al. 2018, synthetic data), with ``0 log 0 = 0``: a
  target mode without samples adds nothing (the forward ``KL(w || q)`` would be infinite), so
  dropping ``k`` of ``M`` equal modes costs ``log(M / (M - k))``, and collapsing onto one mode
  ``log(1 / w_i)``. Without any high-quality sample ``q``
  does not exist; the value is then defined as ``max_i log(1 / w_i)``, the largest value the
  reverse KL takes over all histograms (that of a generator collapsed onto the lightest mode).

For an exact density ``p_g`` (:func:`mode_mass`) the same quantities without sampling noise:
the mass ``m_i = P_{p_g}(E_i)`` of each region, by error-controlled quadrature (a sample is high
quality with probability ``sum_i m_i`` when the regions are disjoint); a mode is captured by mass
when ``m_i >= capture_fraction * w_i``; the reverse KL of ``q_i = m_i / sum_j m_j``.

Metz et al. (2017) used the ring of eight Gaussians to show mode collapse, and its cure by
unrolling the discriminator; the later papers made the counts above the standard report.

References
----------
L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein, "Unrolled generative adversarial networks",
ICLR 2017.
A. Srivastava, L. Valkov, C. Russell, M. U. Gutmann, C. Sutton, "VEEGAN: Reducing mode collapse
in GANs using implicit variational learning", NeurIPS 2017.
Z. Lin, A. Khetan, G. Fanti, S. Oh, "PacGAN: The power of two samples in generative adversarial
networks", NeurIPS 2018.
"""

from .mass import ModeMass, _kl_bound, coverage_metrics, mode_mass  # noqa: F401  (_kl_bound: tests)
from .modes import TargetModes, mahalanobis, target_modes
from .samples import ModeCoverage, _reverse_kl, mode_coverage  # noqa: F401  (_reverse_kl: tests)

__all__ = ["ModeCoverage", "ModeMass", "TargetModes", "coverage_metrics", "mahalanobis", "mode_coverage",
           "mode_mass", "target_modes"]
