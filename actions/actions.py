"""Custom actions, for Rasa's action server (which loads this module): the code is in bot.rasa."""

from bot.rasa.assess_action import ActionAssessCarer, warm_up

__all__ = ["ActionAssessCarer"]

warm_up()
