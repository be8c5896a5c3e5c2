"""Redline: versioned legal policies, rendered redlines, and a tamper-evident acceptance ledger."""
