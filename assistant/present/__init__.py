"""Present: the CLI, the Gradio app, briefings, the audit log, sign-in and the evaluation runner."""
