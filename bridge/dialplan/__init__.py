"""Per-number configuration: models (`models.py`) and the YAML loader (`loader.py`)."""
