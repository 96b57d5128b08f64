"""The LINE channel (issue 16): a LINE official account reaches the same bot as the web widget.

line-bot-sdk (v3) cannot be installed beside Rasa 3.6 (it needs pydantic 2 and a newer aiohttp), so
the channel is a small service of its own, run from its own virtual environment (``.venv-line``,
requirements-line.in): ``python -m bot.line``. It imports nothing from the bot but the base modules
(settings, catalog, channels, production) and talks to the web app over HTTP, like the widget:

    LINE --webhook--> bot.line (signature, dedupe, order) --/chat/send--> web app (exactly once,
    staff holds) --> Rasa;  answers --> reply API (or push);  staff messages --/chat/updates--> push

- `store`: the adapter's own small database (event ids seen, the person's LINE id kept encrypted for
  replies and staff messages, and the last staff message pushed).
- `messages`: Rasa's answer as LINE messages (length limits, five per call, quick replies).
- `app`: the webhook, the relay to the web app, the reply and push calls, the watcher of live chats.
"""
