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
# Nothing is downloaded at run time: the hubs' libraries read these once, when first imported (Gradio imports
# huggingface_hub), so they are set here, before anything else, and whatever the environment said.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
