"""The four agent families of the model: regulators, municipalities, funds and firms."""

from sim.model.agents.firms import FirmPopulation, PlatformFirm
from sim.model.agents.funds import ChipFund, GoldenShareFund, GuidanceFund, Investors
from sim.model.agents.municipalities import Municipality
from sim.model.agents.regulators import Regulator

__all__ = [
    "ChipFund",
    "FirmPopulation",
    "GoldenShareFund",
    "GuidanceFund",
    "Investors",
    "Municipality",
    "PlatformFirm",
    "Regulator",
]
