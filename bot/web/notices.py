"""Measure 6-3-3-3 in the console and for the public (issue 17).

Staff: ``/staff/support`` (every account) shows the support-information file, when it was last
checked, and the tool's figures for the plan's review. ``/staff/notices`` (障害福祉課 and admins; any
other account gets the console's 404): write a notice, preview it, choose topics, send it, and see its
delivery figures. The public: ``/notices/confirm/<token>`` confirms an e-mail subscription (double
opt-in), ``/notices/leave/<token>`` deletes one (one link; also RFC 8058 one-click from a mail client).
The sending itself is bot.web.notice_sender's.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import supportinfo
from bot.channels import LINE_PREFIX
from bot.handoff.notices import may_write_notices
from bot.web.auth import Visit, csrf_checked, logged_in
from bot.web.relay import channel_refused

MAX_TITLE, MAX_BODY = 60, 1500
KIND_LABELS = {"allowance": "手当", "service": "サービス", "medical": "医療", "lending": "貸出し", "transport": "移動", "support": "支援"}
WHO_LABELS = {"under_18": "18歳未満", "age_18_19": "18・19歳", "age_20_plus": "20歳以上", "physical_1_2": "身体1・2級",
              "physical_3_6": "身体3〜6級", "ryoiku": "療育手帳", "mental": "精神の手帳", "none": "手帳なし",
              "home": "自宅", "facility": "施設", "hospital": "入院中"}


@logged_in
async def support_page(request: Request, visit: Visit) -> HTTPResponse:
    """The file's items, when it was last checked, and the figures (no person in them)."""
    figures = visit.console.store.support_figures()
    names = {i["id"]: i["name"] for i in supportinfo.items()}
    return visit.render("staff/support.html", items=supportinfo.items(), checked=supportinfo.checked(),
                        stale=supportinfo.stale(), topics=supportinfo.topics(), figures=figures, names=names,
                        kinds=KIND_LABELS, who=WHO_LABELS)


def _writer(visit: Visit) -> bool:
    return may_write_notices(visit.staff)


@logged_in
async def notices_page(request: Request, visit: Visit) -> HTTPResponse:
    if not _writer(visit):
        return visit.not_found()
    return visit.render("staff/notices.html", notices=visit.console.store.notices(), topics=supportinfo.topics(),
                        subscribers=visit.console.store.support_figures()["subscribers"], form={}, errors=[])


def _form(request: Request) -> Dict[str, Any]:
    known = [t["id"] for t in supportinfo.topics()]
    return {"title": (request.form.get("title") or "").strip(), "body": (request.form.get("body") or "").strip(),
            "topics": [t for t in request.form.getlist("topics") or [] if t in known]}


def _errors(form: Dict[str, Any]) -> List[str]:
    errors = []
    if not 1 <= len(form["title"]) <= MAX_TITLE:
        errors.append(f"件名は1〜{MAX_TITLE}文字で入力してください。")
    if not 1 <= len(form["body"]) <= MAX_BODY:
        errors.append(f"本文は1〜{MAX_BODY}文字で入力してください。")
    if not form["topics"]:
        errors.append("配信するテーマを1つ以上選んでください。")
    return errors


@logged_in
@csrf_checked
async def create(request: Request, visit: Visit) -> HTTPResponse:
    """A notice written: kept unsent, and shown as people will see it (the preview)."""
    if not _writer(visit):
        return visit.not_found()
    form = _form(request)
    errors = _errors(form)
    if errors:
        return visit.render("staff/notices.html", status=400, notices=visit.console.store.notices(), topics=supportinfo.topics(),
                            subscribers=visit.console.store.support_figures()["subscribers"], form=form, errors=errors)
    notice_id = visit.console.store.create_notice(visit.staff, form["title"], form["body"], form["topics"])
    visit.console.store.audit(visit.staff, "notice_written", None, f"お知らせ#{notice_id}")
    return response.redirect(f"/staff/notices/{notice_id}")


@logged_in
async def notice_page(request: Request, visit: Visit, notice_id: str) -> HTTPResponse:
    notice = visit.console.store.notice(int(notice_id)) if _writer(visit) and notice_id.isdigit() else None
    if notice is None:
        return visit.not_found()
    names = {t["id"]: t["name"] for t in supportinfo.topics()}
    subscribers = visit.console.store.support_figures()["subscribers"]
    estimate = {ch: max([subscribers.get(f"{t}/{ch}", 0) for t in notice["topics"]] or [0]) for ch in ("line", "email")}
    return visit.render("staff/notice.html", n=notice, topic_names=names, estimate=estimate,
                        created=dt.datetime.utcfromtimestamp(notice["created_at"]))


@logged_in
@csrf_checked
async def send(request: Request, visit: Visit, notice_id: str) -> HTTPResponse:
    """Send: the recipients are fixed now, once (a second press sends nothing more); audited with counts."""
    store = visit.console.store
    if not _writer(visit) or not notice_id.isdigit() or store.notice(int(notice_id)) is None:
        return visit.not_found()
    notice_id = int(notice_id)
    counts = store.start_sending(notice_id)
    if counts is not None:
        store.audit(visit.staff, "notice_sent", None, f"お知らせ#{notice_id}: LINE {counts['line']}件・メール {counts['email']}件")
        request.app.ctx.notice_sender.wake()
    return response.redirect(f"/staff/notices/{notice_id}")


# --- the public pages ------------------------------------------------------------------------------

PUBLIC = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>鎌倉市 ケアラー相談チャット お知らせ</title><link rel="stylesheet" href="/neutral.css"></head>
<body><main><h1>鎌倉市 ケアラー相談チャットのお知らせ</h1>{body}</main></body></html>"""


def _page(body: str, status: int = 200) -> HTTPResponse:
    return response.html(PUBLIC.format(body=body), status=status, headers={"Cache-Control": "no-store"})


def _topic_names(topics: List[str]) -> str:
    names = {t["id"]: t["name"] for t in supportinfo.topics()}
    return "・".join(escape(names.get(t, t)) for t in topics)


async def confirm_page(request: Request, token: str) -> HTTPResponse:
    """The link of the confirmation e-mail: a button, so that a mail scanner opening links confirms nothing."""
    sub = request.app.ctx.console.store.subscription(token)
    if sub is None:
        return _page("<p>このリンクは使えません。登録をやめたか、期限が切れた可能性があります。</p>", 404)
    if sub["confirmed"]:
        return _page("<p>登録はすでに完了しています。</p>")
    return _page(f"<p>お知らせ（{_topic_names(sub['topics'])}）の受け取りを登録します。</p>"
                 f'<form method="post"><button type="submit">登録を完了する</button></form>')


async def confirm(request: Request, token: str) -> HTTPResponse:
    if not request.app.ctx.console.store.confirm(token):
        return _page("<p>このリンクは使えません。</p>", 404)
    return _page(f'<p>登録しました。やめたいときは、お知らせのメールの「配信停止」のリンクを開いてください。</p>'
                 f'<p><a href="/notices/leave/{escape(token)}">配信を停止する</a></p>')


async def leave_page(request: Request, token: str) -> HTTPResponse:
    if request.app.ctx.console.store.subscription(token) is None:
        return _page("<p>配信はすでに停止しています。</p>")
    return _page('<p>お知らせの配信を停止し、登録したメールアドレスを削除します。</p>'
                 '<form method="post"><button type="submit">配信を停止する</button></form>')


async def leave(request: Request, token: str) -> HTTPResponse:
    """One press (or a mail client's one-click POST, RFC 8058): the subscription and the address are deleted."""
    request.app.ctx.console.store.leave(token)
    return _page("<p>配信を停止しました。登録していたメールアドレスは削除しました。</p>")


async def line_subscribers(request: Request) -> HTTPResponse:
    """For the LINE adapter only: the LINE conversations subscribed to notices, whose LINE id it keeps."""
    if channel_refused(request, LINE_PREFIX):
        return response.json({"error": "forbidden"}, status=403)
    return response.json({"conversations": request.app.ctx.console.store.line_subscribers()})


def blueprint() -> Blueprint:
    bp = Blueprint("notices")
    bp.add_route(support_page, "/staff/support", methods=["GET"])
    bp.add_route(notices_page, "/staff/notices", methods=["GET"])
    bp.add_route(create, "/staff/notices", methods=["POST"])
    bp.add_route(notice_page, "/staff/notices/<notice_id:str>", methods=["GET"])
    bp.add_route(send, "/staff/notices/<notice_id:str>/send", methods=["POST"])
    bp.add_route(confirm_page, "/notices/confirm/<token:str>", methods=["GET"])
    bp.add_route(confirm, "/notices/confirm/<token:str>", methods=["POST"])
    bp.add_route(leave_page, "/notices/leave/<token:str>", methods=["GET"])
    bp.add_route(leave, "/notices/leave/<token:str>", methods=["POST"])
    bp.add_route(line_subscribers, "/chat/line/subscribers", methods=["GET"])
    return bp

