"""No scenario field is accepted and ignored: the model reads every one, or the schema refuses it.

A field for people (names, sources, plot labels) is exempt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import sim
from sim.errors import ScenarioError
from sim.scenario import events, params, schema
from tests.helpers import model, scenario

SIM = Path(sim.__file__).resolve().parent
DECLARING = {SIM / "scenario" / "schema.py", SIM / "scenario" / "events.py",
             SIM / "scenario" / "params.py"}  # fmt: skip
#: Fields for people, not for the model: names, sources, descriptions and plot labels.
DESCRIPTIVE = {"full_name", "source", "description", "label", "mark", "name", "extends", "type"}


def _fields() -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for module in (schema, events, params):
        for obj in vars(module).values():
            ours = isinstance(obj, type) and obj.__module__ == module.__name__
            if ours and issubclass(obj, BaseModel):
                for field in obj.model_fields:
                    out.setdefault(field, obj.__name__)
    return sorted((model, field) for field, model in out.items() if field not in DESCRIPTIVE)


def _code() -> str:
    files = [p for p in SIM.rglob("*.py") if p not in DECLARING and "dashboard" not in p.parts]
    return "\n".join(p.read_text() for p in files)


CODE = _code()


@pytest.mark.parametrize(("model", "field"), _fields())
def test_every_scenario_field_is_read_by_the_code(model: str, field: str) -> None:
    assert re.search(rf"\.{field}\b", CODE), f"{model}.{field} is accepted but nothing reads it"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("funds.BigFund.stake_propensity=0.1", "stake_propensity"),
        ("funds.CIIF.deploy_rate=0.1", "deploy_rate"),
        ("funds.Investors.capital_cny_bn=10", "capital_cny_bn"),
    ],
)
def test_a_fund_field_its_kind_does_not_use_is_refused(override: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario("baseline", override)


def test_a_fine_of_zero_is_refused() -> None:
    with pytest.raises(ScenarioError, match="amount_cny_bn"):
        scenario("crackdown", "timeline.alibaba_fine.amount_cny_bn=0")


def test_regulators_anchor_on_their_own_position() -> None:
    m = model("baseline", "regulators.SAMR.position.platform_stringency=0.8")
    i = m.influence.index["SAMR"]
    assert m.influence.anchor[i, 0] == pytest.approx(0.8)
    # Its stringency starts where its rule holds it: the effective policy plus its mandate.
    spec = m.scenario.regulators["SAMR"]
    assert m.regulator("SAMR").stringency == pytest.approx(float(m.policy[0]) + spec.mandate)
