"""The agent: conversation, tools, the rules agent and the LLM providers."""
