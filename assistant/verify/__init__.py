"""Verify: the grounding guard, which checks every sentence shown against the minutes it cites."""
