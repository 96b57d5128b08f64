"""Staff accounts and retention, from the command line.

    python -m bot.staff add-user NAME --section SECTION_ID [--admin]   (password asked, or --password-stdin)
    python -m bot.staff retention --days 365
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from bot import catalog
from bot.handoffs import Store, now
from bot.transcripts import Transcripts


def main(argv=None) -> int:
    """Run a staff command."""
    p = argparse.ArgumentParser(prog="python -m bot.staff")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-user", help="create an account, or reset its password and section")
    add.add_argument("username")
    add.add_argument("--section", required=True, help="destination id of the section, e.g. shoko")
    add.add_argument("--admin", action="store_true", help="sees every case and the audit log")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    ret = sub.add_parser("retention", help="delete hand-offs and transcripts older than N days")
    ret.add_argument("--days", type=int, required=True)
    args = p.parse_args(argv)

    store = Store()
    if args.command == "add-user":
        sections = {k for k, v in catalog.load()["destinations"].items() if v["kind"] == "section"}
        if args.section not in sections:
            print(f"unknown section {args.section!r}; one of: {', '.join(sorted(sections))}", file=sys.stderr)
            return 2
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
        try:
            store.add_user(args.username, password, args.section, args.admin)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        print(f"account {args.username} ({args.section}{', admin' if args.admin else ''}) saved")
        return 0
    if args.days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    ids = store.delete_older_than(args.days)
    events = Transcripts().delete(ids, now() - dt.timedelta(days=args.days))
    print(f"deleted {len(ids)} hand-offs and {events} tracker events older than {args.days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
