"""Where a conversation came from: the web widget or LINE (issue 16), read from its id.

The LINE adapter (bot.line) names a LINE conversation ``line-`` + a keyed hash of the person's LINE
user id (``LINE_ID_KEY``): the id itself never reaches Rasa, the databases, the console or a log.
The web app accepts a ``line-`` conversation only from the adapter (``LINE_RELAY_TOKEN``), so the
console's "LINE" is never a widget's claim.
"""

from __future__ import annotations

import hashlib
import hmac

LINE_PREFIX = "line-"
# The contact a person on LINE leaves when they want the city's answer in the same LINE talk.
LINE_CONTACT = "LINE（このトークで返信を希望）"
LABELS = {"web": "Web", "line": "LINE"}


def channel_of(conversation_id: str) -> str:
    """"line" for a conversation of the LINE adapter, "web" for the widget's."""
    return "line" if (conversation_id or "").startswith(LINE_PREFIX) else "web"


def label(conversation_id: str) -> str:
    """The channel as staff read it: 「Web」 or 「LINE」."""
    return LABELS[channel_of(conversation_id)]


def line_conversation_id(user_id: str, key: str) -> str:
    """The conversation id of a LINE user: ``line-`` + 40 hex digits of HMAC-SHA256(key, user id).

    Stable for the same key (a person keeps their conversation), not reversible without the key,
    and within the widget's id rule (8-64 of [A-Za-z0-9_-]).
    """
    if not key:
        raise ValueError("LINE_ID_KEY is empty")
    digest = hmac.new(key.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return LINE_PREFIX + digest[:40]
