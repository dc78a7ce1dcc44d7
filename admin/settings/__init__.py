"""Tenant-wide settings that staff choose (what members see of the rankings)."""
