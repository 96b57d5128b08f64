"""Staff accounts and retention, from the command line.

    python -m bot.handoff.staff add-user NAME --section SECTION_ID [--admin]   (password asked, or --password-stdin)
    python -m bot.handoff.staff set-password NAME                              (asked, or --password-stdin)
    python -m bot.handoff.staff disable-user NAME | enable-user NAME | delete-user NAME
    python -m bot.handoff.staff end-sessions [NAME]                            (every account's without NAME)
    python -m bot.handoff.staff retention [--days 365] [--conversation-days 30]

A new password (also add-user on an existing account), a disabled or deleted account and
end-sessions end the console sessions at once, on every web process (they are in the database).
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys

from bot import catalog
from bot.handoff import retention
from bot.handoff.store import Staff, Store
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings, load


def main(argv=None) -> int:
    """Run a staff command."""
    p = argparse.ArgumentParser(prog="python -m bot.handoff.staff")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add-user", help="create an account, or reset its password and section")
    add.add_argument("username")
    add.add_argument("--section", required=True, help="destination id of the section, e.g. shoko")
    add.add_argument("--admin", action="store_true", help="sees every case and the audit log")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    ret = sub.add_parser("retention", help="delete what is past its retention period (also run daily by the web app)")
    ret.add_argument("--days", type=int, help="hand-off period in days (default HANDOFF_RETENTION_DAYS or 365)")
    ret.add_argument("--conversation-days", type=int,
                     help="conversations without a hand-off (default CONVERSATION_RETENTION_DAYS or 30)")
    _add_account_parsers(sub)
    args = p.parse_args(argv)
    try:
        settings = load()
    except ValueError as e:  # a setting that does not parse
        print(e, file=sys.stderr)
        return 2
    store = Store(settings.handoff_db_url)
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
        _audit(store, "add_user", args.username)
        print(f"account {args.username} ({args.section}{', admin' if args.admin else ''}) saved; its sessions ended")
        return 0
    if args.command in ACCOUNT_COMMANDS:
        return _account_command(store, args)
    return _retention(store, args, settings)


def _retention(store: Store, args, settings: Settings) -> int:
    """Run retention once with the settings' periods, or those given; return the exit status."""
    try:
        periods = retention.Periods.from_settings(settings)
        given = {"handoff_days": args.days, "conversation_days": args.conversation_days}
        periods = dataclasses.replace(periods, **{k: v for k, v in given.items() if v is not None})
        if min(periods.handoff_days, periods.conversation_days) < 1:
            raise ValueError("every retention period must be at least 1")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    done = retention.run(store, Transcripts(settings.tracker_db_url, archived=store.archived_counts), periods)
    print("deleted: " + ", ".join(f"{k} {v}" for k, v in done.items()))
    return 0


ACCOUNT_COMMANDS = ("set-password", "disable-user", "enable-user", "delete-user", "end-sessions")


def _add_account_parsers(sub) -> None:
    pw = sub.add_parser("set-password", help="change an account's password; ends its sessions")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("disable-user", help="the account can no longer log in; ends its sessions").add_argument("username")
    sub.add_parser("enable-user", help="the account can log in again").add_argument("username")
    sub.add_parser("delete-user", help="delete the account and end its sessions (notes keep its name)").add_argument("username")
    end = sub.add_parser("end-sessions", help="log an account out everywhere; every account without NAME")
    end.add_argument("username", nargs="?")


def _audit(store: Store, action: str, username: str | None) -> None:
    # Account changes go to the console's audit log too, under the system user who ran the command.
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        who = "?"
    store.audit(Staff(f"cli:{who}", ""), action, detail=username or "(all)")


def _account_command(store: Store, args) -> int:
    """Run set-password, disable-user, enable-user, delete-user or end-sessions; return the exit status."""
    name = args.username
    if args.command == "end-sessions":
        ended = store.end_sessions(name)
        _audit(store, "end_sessions", name)
        print(f"ended {ended} sessions " + (f"of {name}" if name else "of every account"))
        return 0
    if args.command == "set-password":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
        try:
            done = store.set_password(name, password)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
    elif args.command == "delete-user":
        done = store.delete_user(name)
    else:
        done = store.set_disabled(name, args.command == "disable-user")
    if not done:
        print(f"no account {name!r}", file=sys.stderr)
        return 2
    _audit(store, args.command.replace("-", "_"), name)
    print(f"{args.command} {name}: done" + ("" if args.command == "enable-user" else "; its sessions ended"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
