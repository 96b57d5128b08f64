"""Responses rendered in the style the action chose for them.

Rasa renders the responses of a custom action before it applies the action's events, so on the first
turn the `speech_style` slot is not set yet when a child's first answer is rendered. The action sends
the style with each response (``speech_style``), and this generator reads it before the slot to pick
the やさしい日本語 variation. Configured in endpoints.yml as the `nlg` endpoint.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

STYLES = ("easy", "standard", "plain")


class StyledResponses(TemplatedNaturalLanguageGenerator):
    """The domain's responses, with the style of each reply taken from the action when it gives one."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(self, utter_action: str, tracker: DialogueStateTracker, output_channel: str,
                       **kwargs: Any) -> Optional[Dict[str, Any]]:
        """Render ``utter_action``; a ``speech_style`` of the action wins over the slot's value."""
        filled_slots = tracker.current_slot_values()
        style = kwargs.get("speech_style")
        if style in STYLES:
            filled_slots = {**filled_slots, "speech_style": style}
        return self.generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)
