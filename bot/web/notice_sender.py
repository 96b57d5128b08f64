"""Sending what people opted into (issue 17), in every web process, in the background.

- Confirmation e-mails: one per new e-mail subscription, with the link that confirms it (double
  opt-in) and the one that deletes it. A subscription counts only once its link was opened.
- Notices: deliveries claimed from the hand-off database (bot.handoff.notices), at most
  ``NOTICE_RATE`` per second per process; e-mail over SMTP with a one-click unsubscribe header
  (RFC 8058), LINE through the adapter (``/internal/push``, LINE_RELAY_TOKEN), which pushes with a
  retry key: a LINE delivery resumed after a crash reaches the person once.
Nothing here is logged but counts and error types; no address, no text.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import time
from email.message import EmailMessage
from typing import Any, Dict, Optional

import aiohttp

from bot import supportinfo
from bot.handoff.store import Store
from bot.settings import Settings

logger = logging.getLogger(__name__)
IDLE = 2.0


class NoticeSender:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self.http: Optional[aiohttp.ClientSession] = None
        self._wake: Optional[asyncio.Event] = None  # made in the server's loop (run)

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            try:
                busy = await self.step()
            except Exception as e:  # noqa: BLE001 - the sender must outlive a database or network hiccup
                logger.warning("notices: %s", type(e).__name__)
                busy = False
            if not busy:
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()

    async def step(self) -> bool:
        """Send what is due now; True if there may be more."""
        loop = asyncio.get_running_loop()
        mail = bool(self.settings.smtp_host)
        confirmations = await loop.run_in_executor(None, self.store.confirmations_to_send) if mail else []
        for c in confirmations:
            await loop.run_in_executor(None, self._send_mail, c["address"], *self._confirmation(c))
        rate = max(self.settings.notice_rate, 0.1)
        due = await loop.run_in_executor(None, self.store.claim_deliveries, max(int(rate), 1))
        for d in due:
            started = time.monotonic()
            state = await (self._push_line(d) if d["channel"] == "line" else loop.run_in_executor(None, self._mail_notice, d))
            if state:
                await loop.run_in_executor(None, self.store.finish_delivery, d["notice_id"], d["subscription_id"], state)
            await asyncio.sleep(max(0.0, 1.0 / rate - (time.monotonic() - started)))
        return bool(due)

    def _links(self, token: str) -> Dict[str, str]:
        base = self.settings.public_url.rstrip("/")
        return {"confirm": f"{base}/notices/confirm/{token}", "leave": f"{base}/notices/leave/{token}"}

    def _confirmation(self, c: Dict[str, Any]) -> tuple:
        names = {t["id"]: t["name"] for t in supportinfo.topics()}
        links = self._links(c["token"])
        body = ("鎌倉市 ケアラー相談チャットのお知らせ（" + "・".join(names.get(t, t) for t in c["topics"]) + "）の受け取りの確認です。\n\n"
                f"受け取る場合は、次のリンクを開いて「登録を完了する」を押してください。\n{links['confirm']}\n\n"
                "心当たりがない場合は、このメールを削除してください。登録は完了せず、お知らせは届きません。\n"
                f"このアドレスの登録を削除する：{links['leave']}\n")
        return "【鎌倉市】お知らせの受け取りの確認", body, links["leave"]

    def _send_mail(self, to: str, subject: str, body: str, leave: str) -> bool:
        msg = EmailMessage()
        msg["Subject"], msg["To"] = subject, to
        msg["From"] = self.settings.smtp_from or self.settings.duty_email or "noreply@localhost"
        msg["List-Unsubscribe"] = f"<{leave}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=15) as smtp:
                smtp.send_message(msg)
            return True
        except (OSError, smtplib.SMTPException) as e:
            logger.warning("notices: an e-mail was not sent: %s", type(e).__name__)
            return False

    def _mail_notice(self, d: Dict[str, Any]) -> str:
        if not self.settings.smtp_host:
            return "failed"
        leave = self._links(d["token"])["leave"]
        body = f"{d['body']}\n\n――\n鎌倉市 ケアラー相談チャット\nお知らせの配信停止：{leave}\n"
        return "sent" if self._send_mail(d["address"], f"【鎌倉市】{d['title']}", body, leave) else "failed"

    async def _push_line(self, d: Dict[str, Any]) -> Optional[str]:
        """"sent", "failed" (the person left LINE: their subscription is deleted), or None (the adapter is
        unreachable: the claim lapses and the delivery is tried again, under the same retry key)."""
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        text = f"【鎌倉市 ケアラー相談チャット】{d['title']}\n{d['body']}\nやめたいときは「配信停止」と送ってください。"
        # The retry key: this notice to this subscription (its secret token is unique even across a reset database).
        body = {"conversation": d["address"], "text": text, "key": f"notice:{d['notice_id']}:{d['token']}"}
        headers = {"Authorization": f"Bearer {self.settings.line_relay_token}"}
        try:
            async with self.http.post(f"{self.settings.line_adapter_url.rstrip('/')}/internal/push", json=body, headers=headers) as r:
                if r.status == 200:
                    return "sent"
                if r.status == 410:
                    await asyncio.get_running_loop().run_in_executor(None, self.store.leave_line, d["address"])
                    return "failed"
                logger.warning("notices: the LINE adapter answered %s", r.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            logger.warning("notices: the LINE adapter is unreachable: %s", type(e).__name__)
        return None
