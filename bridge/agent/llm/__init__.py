"""LLM providers behind one streaming interface (`base.py`): OpenAI and Anthropic."""
