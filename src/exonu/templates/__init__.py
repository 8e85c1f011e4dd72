"""Binned model building: background templates, signal response, workspace."""
