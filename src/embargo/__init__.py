"""Embargo: coordinated vulnerability disclosure, from the first private report to the advisory."""

__version__ = "0.1.0"
