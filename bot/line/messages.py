"""Rasa's answer as LINE messages: text within LINE's length limit, at most five per call, choices as
quick-reply buttons. Plain dicts in the Messaging API's JSON shape (the SDK's models read them), so
that this is tested without the SDK.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

MAX_PER_CALL = 5  # messages in one reply or push call
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20  # characters of a quick-reply button's label
MAX_DATA = 300  # characters of a postback's data and display text
# Where a Japanese text may be cut: after a sentence's end (。！？!? and a closing bracket after it) or a newline.
_SENTENCE = re.compile(r"(?<=[。！？!?\n])(?![」』）)])|(?<=[。！？!?][」』）)])")


def split_text(text: str, limit: int) -> List[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at sentence ends where it can.

    A sentence longer than ``limit`` is cut at a comma (、，,) or a space, else at ``limit``.
    Nothing is dropped: the pieces joined give the text back (less whitespace at the cuts).
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: List[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE.split(text) if s):
        while len(sentence) > limit:  # one sentence longer than a message
            cut = max(sentence.rfind(c, 0, limit) for c in "、，, 　") + 1 or limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def text_messages(text: str, limit: int) -> List[Dict[str, Any]]:
    """A text as LINE text messages, cut at sentence ends within ``limit``."""
    return [{"type": "text", "text": piece} for piece in split_text(text, limit)]


def _label(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1] + "…"


def quick_reply(buttons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Rasa's buttons as LINE quick-reply buttons (postbacks: the tap sends the payload, shows the title)."""
    items = []
    for b in buttons[:MAX_QUICK_REPLIES]:
        title = str(b.get("title") or b.get("payload") or "")
        payload = str(b.get("payload") or title)
        if not title or len(payload) > MAX_DATA:
            continue
        items.append({"type": "action", "action": {"type": "postback", "label": _label(title), "data": payload,
                                                     "displayText": title[:MAX_DATA]}})
    return {"items": items}


def to_line(answer: List[Dict[str, Any]], limit: int) -> List[Dict[str, Any]]:
    """Rasa's REST answer (a list of {"text", "buttons", "image", ...}) as LINE text messages.

    Links stay plain URLs in the text (LINE makes them tappable); an image is sent as its address.
    The buttons of the last message that has them become the quick reply of the last message: LINE
    shows quick replies only under the newest message.
    """
    out: List[Dict[str, Any]] = []
    buttons: List[Dict[str, Any]] = []
    for m in answer:
        parts = [m["text"]] if isinstance(m.get("text"), str) else []
        if isinstance(m.get("image"), str):
            parts.append(m["image"])
        for part in parts:
            out += text_messages(part, limit)
        if m.get("buttons"):
            buttons = list(m["buttons"])
    if buttons and out:
        reply = quick_reply(buttons)
        if reply["items"]:
            out[-1]["quickReply"] = reply
    return out


def batches(messages: List[Dict[str, Any]], size: int = MAX_PER_CALL) -> List[List[Dict[str, Any]]]:
    """The messages in calls of at most five, in order."""
    return [messages[i:i + size] for i in range(0, len(messages), size)]
