"""Detector description: geometry (PMTs, dead PMTs) and response."""
