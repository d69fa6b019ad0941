"""A zip container (a Word file) checked before anything inflates it: its directory's declared sizes in; a
SourceError out when they add up past a limit or a part unzips like a zip bomb.

The declared sizes bound what is really inflated: Python's zipfile, which python-docx reads parts with, never
returns more of a member than its declared size (a member that holds more is cut there and fails its CRC), so
checking the directory caps every read that follows."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ...errors import SourceError

# How many times its compressed size a part may unzip to. Word's XML unzips 5 to 30 times (the squad-dev Word
# files: 32 at most), the most repetitive a writer makes (8,000 one-letter paragraphs) 197 times; deflate cannot
# pass 1,032 (zlib's documented maximum), and a zip bomb made for effect sits near it (1.3 MB that unzips to
# 1.2 GB: about 1,000). Halfway refuses every full-strength bomb; a weaker one meets `max_unzipped_mb`. Apache
# POI refuses at 100 but has to be told to let redundant files through, and a Word file has no setting here.
MAX_RATIO = 500.0
RATIO_GRACE_BYTES = 100 * 1024  # a part this small cannot hurt at any ratio (POI's grace size, GRACE_ENTRY_SIZE)
MB = 1e6


def check_zip(path: Path, max_unzipped_mb: float, resave: str) -> None:
    """Refuse `path` when its parts declare more than `max_unzipped_mb` together, or one unzips more than
    MAX_RATIO times; nothing is inflated. A file that is no zip at all passes: its reader says what it is."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    total = sum(member.file_size for member in members)
    if total > max_unzipped_mb * MB:
        raise SourceError(f"{path} would unzip to {total / MB:,.0f} MB, over the {max_unzipped_mb:g} MB a Word file "
                          f"may unzip to (`max_unzipped_mb` in the config's [retrieval.reading] table); {resave}")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_GRACE_BYTES and ratio > MAX_RATIO:
            raise SourceError(f"{path} holds a part ({member.filename[:80]!r}) that unzips to {ratio:,.0f} times "
                              f"its size, as zip bombs do (Word's own parts stay far under {MAX_RATIO:g}); {resave}")
