"""Simulated daily histories: consecutive statistics files derived from real ones.

No machine here can download the RIRs' twenty-year archives, so benchmarks and tests build a
stand-in: :mod:`rirport.simulation.churn` turns real files into N consecutive days of valid
files with the kinds and rate of change seen between real consecutive days.
"""

from rirport.simulation.churn import (
    DEFAULT_MIX,
    DEFAULT_RATE,
    ChurnRates,
    DailyHistory,
    SimulatedDay,
    SimulatedFile,
)

__all__ = [
    "DEFAULT_MIX",
    "DEFAULT_RATE",
    "ChurnRates",
    "DailyHistory",
    "SimulatedDay",
    "SimulatedFile",
]
