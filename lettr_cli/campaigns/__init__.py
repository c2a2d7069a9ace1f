"""Campaigns: templates, campaigns and their lifecycle, checks and review."""
