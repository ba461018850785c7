"""Prompt files, shipped with the package as assistant.prompt_files (read by assistant/prompts.py)."""
