"""Scan benchmark baseline: walk the tree and read title/artist/album of every audio file with mutagen,
in one process (Debian's python3-mutagen; run with /usr/bin/python3)."""
import json
import os
import sys

import mutagen

AUDIO = (".flac", ".mp3", ".ogg", ".opus", ".m4a")
files = errors = tagged = 0
for dirpath, _dirs, names in os.walk(sys.argv[1]):
    for name in names:
        if not name.lower().endswith(AUDIO):
            continue
        files += 1
        try:
            # easy=True maps ID3 frames / MP4 atoms / Vorbis comments to the same keys.
            audio = mutagen.File(os.path.join(dirpath, name), easy=True)
            tags = audio.tags if audio is not None else None
            if tags is None:
                errors += 1
                continue
            if all(tags.get(k) for k in ("title", "artist", "album")):
                tagged += 1
        except Exception:  # noqa: BLE001 - a broken file counts as an error, the walk goes on
            errors += 1
print(json.dumps({"files": files, "errors": errors, "tagged": tagged}))
