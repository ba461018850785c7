"""Start the chat app: `python app.py [--port N] [--index DIR] [--llm SPEC]`.

The index is brought in line with corpus/ first (only what changed is embedded).
"""

import sys

from assistant.present.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
