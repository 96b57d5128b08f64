"""The triage: who is writing, for whom they care, where to go, and whether they are in danger."""

from bot.triage.assess import *  # noqa: F401,F403
from bot.triage.assess import kanji_number  # noqa: F401
