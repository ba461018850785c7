"""Prompt files, shipped with the package as assistant.prompts."""
