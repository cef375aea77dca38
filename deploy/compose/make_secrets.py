"""Write the compose pilot's secrets into a git-ignored folder (`make secrets`): random, and never overwritten.

redis_password (every service and Redis), isf_pseudonym_key (ingest only: replacing it would give every
patient a new pseudonym, so an existing key is kept), isf_monitor_tokens.json (monitor only: one
national token; add `rhf:<id>` or `hf:<code>` tokens to the JSON by hand).
The folder is private to its owner; the files are readable so that the containers' non-root users can
read their bind-mounted copies.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

FILES = {
    "redis_password": lambda: secrets.token_urlsafe(32),
    "isf_pseudonym_key": lambda: secrets.token_hex(32),
    "isf_monitor_tokens.json": lambda: json.dumps({secrets.token_urlsafe(24): "national"}, indent=2),
}


def write_secrets(folder: Path) -> list[Path]:
    """Create what is missing; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    written = []
    for name, make in FILES.items():
        path = folder / name
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(make() + "\n")
        path.chmod(0o644)  # whatever the umask: the containers' users read the bind-mounted file
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/secrets")
    made = write_secrets(target)
    print(f"{target}/: " + (", ".join(p.name for p in made) + " written" if made else "all present, none changed"))
