"""gan-theory: check the theory of generative adversarial networks numerically.

The exact engine (densities, error-controlled quadrature, D*, V(D, G), C(G), divergences):

>>> import gan_theory as gt
>>> from torch.distributions import Normal
>>> c = gt.criterion(Normal(0., 1.), Normal(1., 1.5))
>>> abs(c.value - (-gt.LOG4 + 2 * gt.jsd(Normal(0., 1.), Normal(1., 1.5)).value)) < 1e-12
True
"""


from .constants import LOG4
from ._version import __version__
from . import montecarlo, toys
from .closed_forms import register_closed_form
from .densities import as_density, register_family, register_hints
from .discriminator import OptimalDiscriminator, discriminator_error, discriminator_sup_error, optimal_discriminator
from .divergences import f_divergence, jsd, kl, wasserstein1
from .results import AccuracyError, IntegralResult, MonteCarloResult
from .training.config import TrainConfig
from .training.fit import FitResult, fit_discriminator
from .training.members import TrainResult
from .training.run import train
from .value import criterion, value_function


__all__ = [
    "AccuracyError", "IntegralResult", "LOG4", "MonteCarloResult", "OptimalDiscriminator", "as_density",
    "criterion", "discriminator_error", "discriminator_sup_error", "f_divergence", "jsd", "kl", "montecarlo", "optimal_discriminator", "register_closed_form",
    "register_family", "register_hints", "toys", "value_function", "wasserstein1", "__version__",
    "TrainConfig", "TrainResult", "FitResult", "train", "fit_discriminator",
]
