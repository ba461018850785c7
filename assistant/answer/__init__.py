"""Answer: evidence scoring, extractive and language-model answering, prompts, and the `Assistant` service."""
