"""Staff's marks on the crisis flag, exported as danger examples to REVIEW (issue 12).

    python -m bot.handoff.labels export [--out var/labels/staff-marks.yml]     (make export-labels)

On the console's case page staff mark a crisis flag as wrong (``wrong_flag``) or a danger as
missed (``missed``). This writes each marked case's user turns, read from the tracker store, in
the format of the danger data (``data/danger/``): ``expected: {crisis: false}`` for a wrong flag,
``{crisis: true}`` for a missed danger, ``kind: staff_mark`` and the case's reference as ``source``.

Nothing here is training data until a person has reviewed it: the learned reader reads only
``data/danger/`` and never ``var/``. The file holds what people wrote, so it is created 0600 in
a folder created 0700 (``var/`` is git-ignored), and only counts are printed, never the text.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings, load

DEFAULT_OUT = Path("var") / "labels" / "staff-marks.yml"
HEADER = """\
# Staff marks on the danger reader's crisis flag, exported by `python -m bot.handoff.labels export`.
# TO REVIEW BEFORE ANY USE: a mark is one member of staff's judgement on one case, not a label.
# `kind: staff_mark`; `source` is the hand-off's reference; `expected.crisis` is false for a flag
# marked wrong, true for a danger marked missed. Training never reads var/: the reader learns only
# from data/danger/. Copy a conversation there only after review, and rewrite anything that could
# identify a person. This file holds what people wrote: keep it private (0600), delete it when done.
"""


def _private_folder(folder: Path) -> None:
    """Create ``folder`` and each missing parent with mode 0700 (the mode is not left to the umask)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        f.mkdir(mode=0o700)
        os.chmod(f, 0o700)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (an older file is replaced, mode and all)."""
    _private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".staff-marks-", suffix=".tmp")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def user_turns(transcripts: Transcripts, conversation_id: str) -> List[str]:
    """The user's messages of a conversation, oldest first (buttons as the console shows them)."""
    return [t["text"] for t in transcripts.turns(conversation_id) if t["who"] == "user" and t["text"]]


def build(store: Store, transcripts: Transcripts) -> Dict[str, Any]:
    """Return {"conversations": [...], "counts": {...}}: one example per marked case and kind.

    Two marks of the same kind on one case make one example (named after the first mark); a case
    whose transcript retention already deleted is skipped and counted.
    """
    conversations: List[Dict[str, Any]] = []
    seen = set()
    counts = {"marks": 0, "missed": 0, "wrong_flag": 0, "duplicates": 0, "skipped_no_transcript": 0}
    turns_of: Dict[str, List[str]] = {}
    for mark in store.marked_cases():
        counts["marks"] += 1
        key = (mark["ref"], mark["kind"])
        if key in seen:
            counts["duplicates"] += 1
            continue
        seen.add(key)
        cid = mark["conversation_id"]
        if cid not in turns_of:
            turns_of[cid] = user_turns(transcripts, cid)
        if not turns_of[cid]:
            counts["skipped_no_transcript"] += 1
            continue
        conversations.append({
            "id": f"mark_{mark['id']}",
            "turns": list(turns_of[cid]),
            "expected": {"crisis": mark["kind"] == "missed"},
            "kind": "staff_mark",
            "source": mark["ref"],
        })
        counts[mark["kind"]] += 1
    return {"conversations": conversations, "counts": counts}


def export(out: Path, store: Optional[Store] = None, transcripts: Optional[Transcripts] = None,
           settings: Optional[Settings] = None) -> Dict[str, int]:
    """Write the marked cases to ``out`` (0600, folder 0700); return the counts.

    The store and the transcripts default to the databases that ``settings`` (default: the
    process's) name: transcripts as the console's read-only role in production (TRACKER_READ_DB_URL).
    """
    if store is None or transcripts is None:
        settings = settings or load()
        store = store or Store(settings.handoff_db_url)
        transcripts = transcripts or Transcripts(settings.tracker_reader_url)
    result = build(store, transcripts)
    body = yaml.safe_dump({"conversations": result["conversations"]}, allow_unicode=True, sort_keys=False,
                          default_flow_style=False, width=10_000)
    _write_private(out, HEADER + body)
    return result["counts"]


def main(argv: Optional[List[str]] = None) -> int:
    """Command line: ``export [--out PATH]``; prints counts only."""
    p = argparse.ArgumentParser(prog="python -m bot.handoff.labels", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write staff marks as danger examples to review")
    e.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    os.umask(0o077)  # anything this process creates (the SQLite journal too) is private
    counts = export(args.out, settings=load())
    exported = counts["missed"] + counts["wrong_flag"]
    print(f"exported {exported} conversations to {args.out} (missed: {counts['missed']}, "
          f"wrong_flag: {counts['wrong_flag']}) from {counts['marks']} marks; "
          f"skipped {counts['skipped_no_transcript']} whose transcript was deleted, "
          f"{counts['duplicates']} repeated marks. Review before any use.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
