"""Campaigns: a list of contacts dialled within caps, calling hours and the do-not-call list."""
