"""What the bot says after the triage."""

from bot.dialogue.plan import *  # noqa: F401,F403
from bot.dialogue.plan import REF, State, easy_japanese, handoff_destinations, parse_contact, plan, summarize  # noqa: F401
