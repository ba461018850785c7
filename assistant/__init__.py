"""Question answering with checked citations over UK council committee minutes.

Nothing heavy is imported here: models, Chroma and Gradio load on first use.
"""

import os

__version__ = "0.1.0"

# onnxruntime (since 1.29) sends usage events to Microsoft from Linux and macOS too, and keeps a device id and an
# event queue in the user's cache folder; it runs the embedder and the reader here, and nothing is to leave the
# machine at run time. Set before anything imports it (its choice is made once, when it starts), whatever the
# environment said: a value there asking for the events is overruled.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
