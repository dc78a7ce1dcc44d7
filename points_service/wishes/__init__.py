"""Micro-wishes (微心愿): a resident's small wish, claimed and fulfilled by a member, verified by staff."""
