"""Constants shared by every layer, defined once.

``LOG2`` and ``LOG4``: ``log 2`` (the JSD of disjoint supports, in nats) and ``log 4`` (``-C(G)``
at the optimum ``p_g = p_data``, Goodfellow et al. 2014, Theorem 1). ``F64``: the torch dtype
every exact computation is done in.
"""

import math

import torch

__all__ = ["F64", "LOG2", "LOG4"]

#: log 2: the JSD of two densities with disjoint supports, in nats.
LOG2 = math.log(2.0)
#: log 4: the value -C(G) takes at the optimum p_g = p_data.
LOG4 = math.log(4.0)
#: The torch dtype of every exact (float64) computation.
F64 = torch.float64
