"""Rewrite a reader folder whose ensemble was exported as one graph (model.onnx) as one file per member, as
`python -m assistant.answer.train --ensemble N` now writes it, without retraining: the members' weights and
graphs are unchanged, so reading every candidate with every member gives the same scores. The reader then
lets the later members read only the first member's best candidates (the manifest's second_reads); recalibrate
it afterwards (`python -m assistant.answer.train --recalibrate --out FOLDER`), since those scores differ a little.

    python scripts/split_ensemble_reader.py assistant/answer/reader_model
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.answer.training.export import as_members
from assistant.index.models import sha256_of


def main(folder: Path) -> int:
    manifest = json.loads((folder / "manifest.json").read_text())
    if "model" not in manifest or "token_embeddings" not in manifest:
        print(f"{folder} does not hold an ensemble exported as one graph; nothing to split.", file=sys.stderr)
        return 1
    model_file = manifest.pop("model")
    del manifest["sha256"][model_file]
    manifest |= as_members(folder, model_file)
    members = manifest["members"]
    manifest["sha256"] = {name: sha256_of(folder / name) for name in members} | manifest["sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"{folder}: {', '.join(members)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "assistant/answer/reader_model")))
