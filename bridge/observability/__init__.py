"""What any layer may count or log: metrics, lag histograms, structured logs (no HTTP here)."""
