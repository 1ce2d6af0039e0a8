"""Fixed-seed training runs of the trainer as it was before the split of issue 10 (commit 07ca77a),
stored so that tests/test_steps.py can check that the split trainer gives the same numbers bit for
bit (with compile=False, r1_gamma=0 and generators without weighted_sample).

Run it against the OLD code, from a copy of that commit:

    git archive 07ca77a | tar -x -C /tmp/old_split
    cd /tmp/old_split && PYTHONPATH=/tmp/old_split python <this repo>/tests/references/make_trainer_reference.py \
        > <this repo>/tests/references/trainer_before_split.json

The same CASES are run by the test; every record (but wall_time and train_time) and every final
parameter must be equal.
"""

import json
import sys

CASES = {
    "affine_1d": ("gaussian", dict(generator="affine", steps=6, log_every=6, ensemble=3, batch_size=32, d_hidden=(8, 8))),
    "affine_2d_cosine": ("ring", dict(generator="affine", steps=4, log_every=4, ensemble=2, batch_size=32,
                                      lr_schedule="cosine", network_quadrature_atol=1e-4, d_hidden=(8,))),
    "flow_1d_k2": ("mixture2", dict(generator="flow", steps=3, log_every=3, ensemble=2, batch_size=32, d_steps=2,
                                    flow_bins=4, d_hidden=(8,))),
    "mlp_1d": ("gaussian", dict(generator="mlp", steps=3, log_every=3, ensemble=1, batch_size=32, g_hidden=(4,),
                                d_hidden=(8,))),
    "optimal_sgd": ("gaussian", dict(generator="affine", discriminator="optimal", steps=5, log_every=5, ensemble=2,
                                     batch_size=32, optimizer="sgd", lr_g=0.05, momentum=0.5)),
    "grid": ("gaussian", dict(generator="grid", discriminator="optimal", steps=4, log_every=4, ensemble=2,
                              grid_points=64, lr_g=0.5)),
    "chunked_float64_labels": ("gaussian", dict(generator="affine", steps=4, log_every=4, ensemble=3, chunk=2,
                                                batch_size=32, dtype="float64", real_label=0.9, d_hidden=(8,))),
    "diverging_member": ("gaussian", dict(generator="affine", steps=4, log_every=2, ensemble=2, batch_size=32,
                                          optimizer="sgd", lr_g=(1e-3, 1e30), lr_d=(1e-3, 1e30), d_hidden=(8,))),
}


def run_case(name):
    """The records (without times), the stopped members and the final parameters of one case."""
    import gan_theory as gt
    from gan_theory.training.config import TrainConfig

    target, kw = CASES[name]
    try:  # after issue 10, fields a recipe sets default to None: the cases use the old defaults
        from gan_theory.training.recipes import FALLBACK
        kw = {**FALLBACK, **kw}
    except ImportError:  # the trainer before the split (07ca77a) has no recipes
        pass
    r = gt.train(target, TrainConfig(device="cpu", **kw), progress=False)
    records = [{k: v for k, v in rec.items() if k not in ("wall_time", "train_time")} for rec in r.history]
    tr = r._trainer
    params = [p.detach().double().flatten().tolist() for c in tr.chunks for p in c.parameters()]
    return {"history": records, "params": params, "stopped": {str(k): v for k, v in r.stopped.items()}}


if __name__ == "__main__":
    json.dump({name: run_case(name) for name in CASES}, sys.stdout, indent=None, allow_nan=False)
    sys.stdout.write("\n")
