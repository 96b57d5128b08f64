"""Reading a contact out of a person's answer: a Japanese phone number, an e-mail address, or none.

People answer in a sentence (「メールは tanaka@example.jp です」, 「090-1234-5678 にお願いします」,
「+81 467-12-3456」, 「tel: 0467-12-3456」): the contact is picked out of it with phonenumbers (JP
region; numbers that cannot exist, like 0000000000, are refused) and email-validator (syntax only:
no DNS lookup, the city's network may not resolve, and nothing the person wrote leaves the machine).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional, Tuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Something that looks like an address: the part before @ is picked out of Japanese around it.
_EMAIL_CANDIDATE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_NO_CONTACT = re.compile(
    r"なし|ない|いらない|匿名|とくめい|残さない|のこさない|結構|けっこう|大丈夫|だいじょうぶ|\bno\b|パス|言いたくない"
)
# Long vowel marks and dashes people type inside numbers (「090ー1234ー5678」).
_DASHES = str.maketrans({c: "-" for c in "ー‐―−–—"})


def _email(text: str) -> Optional[str]:
    for candidate in _EMAIL_CANDIDATE.findall(text):
        try:
            return validate_email(candidate, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            continue
    return None


def _phone(text: str) -> Optional[str]:
    """The first possible, valid Japanese number in ``text``, written the national way (09012345678)."""
    for match in phonenumbers.PhoneNumberMatcher(text.translate(_DASHES), "JP", leniency=phonenumbers.Leniency.VALID):
        number = match.number
        if number.country_code == 81:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace("-", "")
    return None


def parse_contact(text: str) -> Tuple[str, Optional[str]]:
    """Read a contact answer: ("email" | "phone", value), ("none", None) or ("invalid", None).

    A phone number is kept as its digits, the national way (``0467123456``); an address in lower case.
    """
    t = unicodedata.normalize("NFKC", text or "").strip()
    email = _email(t)
    if email:
        return "email", email
    phone = _phone(t)
    if phone:
        return "phone", phone
    if _NO_CONTACT.search(t.lower()):
        return "none", None
    return "invalid", None
