"""Tests of sim.model."""
