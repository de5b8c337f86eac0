"""The policysim test suite."""
