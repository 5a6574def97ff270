"""Compliance stage: verdicts per person roll up into rates with intervals."""
