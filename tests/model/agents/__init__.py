"""Tests of the agent families."""
