"""Run specs sent to workers: one scenario object per worker, the same runs as plainly pickled."""

from __future__ import annotations

import pickle

from sim.experiments import shipped
from sim.experiments.plan import plan_batch


def test_pickled_specs_share_one_equal_scenario_and_keep_every_field() -> None:
    specs = plan_batch(["crackdown", "export_controls"], replicates=3).specs
    first = pickle.loads(pickle.dumps(specs[:3]))  # noqa: S301
    later = pickle.loads(pickle.dumps(specs))  # noqa: S301
    assert later == specs
    for spec, again in zip(first, later[:3], strict=True):
        assert again.base is spec.base  # rebuilt once, then reused
    assert later[0].base is not later[3].base
    assert later[0].base == specs[0].base
    assert later[3].base == specs[3].base


def test_encoded_pickles_each_scenario_object_once() -> None:
    spec = plan_batch(["crackdown"], replicates=1).specs[0]
    digest, data = shipped.encoded(spec.base)
    assert shipped.encoded(spec.base)[1] is data
    assert shipped.received(digest, data) is shipped.received(digest, data)
    assert shipped.received(digest, data) == spec.base
