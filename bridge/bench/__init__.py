"""`bridge bench`: many simulated calls against a bridge, and what they cost it."""
