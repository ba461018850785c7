"""Question answering with checked citations over UK council committee minutes.

Nothing heavy is imported here: models, Chroma and Gradio load on first use.
"""

__version__ = "0.1.0"
