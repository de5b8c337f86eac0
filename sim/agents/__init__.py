"""The four agent families of the model: regulators, municipalities, funds and firms."""

from sim.agents.firms import FirmPopulation, PlatformFirm
from sim.agents.funds import ChipFund, GoldenShareFund, GuidanceFund, Investors
from sim.agents.municipalities import Municipality
from sim.agents.regulators import Regulator

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
