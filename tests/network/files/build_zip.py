"""Rebuild nc_interview.zip from the hand-made CSVs next to it (deterministic timestamps)."""

from __future__ import annotations

import zipfile
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    with zipfile.ZipFile(HERE / "nc_interview.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((HERE / "nc_interview").glob("*.csv")):
            info = zipfile.ZipInfo(path.name, date_time=(2024, 3, 6, 8, 15, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


if __name__ == "__main__":
    main()
