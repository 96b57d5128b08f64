"""What the bot says after the triage, one gentle step at a time (bot.dialogue.turn)."""

from bot.dialogue.effects import Effect, RecordDanger, SaveHandoff, StoreContact
from bot.dialogue.replies import HANDOFF_REF, Reply, fill_ref
from bot.dialogue.state import Conversation
from bot.dialogue.style import easy_japanese, speech_style, writer, written_in_english
from bot.dialogue.summary import summarize
from bot.dialogue.turn import Message, Turn, handoff_destinations, take_turn

__all__ = ["Conversation", "Effect", "HANDOFF_REF", "Message", "RecordDanger", "Reply", "SaveHandoff", "StoreContact",
           "Turn", "easy_japanese", "fill_ref", "handoff_destinations", "speech_style", "summarize", "take_turn", "writer",
           "written_in_english"]
