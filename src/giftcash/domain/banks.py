"""Korean bank codes (KFTC 공동코드, 3 digits) and account-number checks (DOMAIN-FACTS §3)."""

from __future__ import annotations

import re

from giftcash.domain.errors import DomainError

BANKS: dict[str, str] = {
    "002": "KDB산업은행",
    "003": "IBK기업은행",
    "004": "KB국민은행",
    "007": "수협은행",
    "011": "NH농협은행",
    "012": "지역농축협",
    "020": "우리은행",
    "023": "SC제일은행",
    "027": "한국씨티은행",
    "031": "iM뱅크(대구)",
    "032": "부산은행",
    "034": "광주은행",
    "035": "제주은행",
    "037": "전북은행",
    "039": "경남은행",
    "045": "새마을금고",
    "048": "신협",
    "050": "저축은행",
    "071": "우체국",
    "081": "하나은행",
    "088": "신한은행",
    "089": "케이뱅크",
    "090": "카카오뱅크",
    "092": "토스뱅크",
}

# The banks most people use, in that order, first in every list (the rest follow in code
# order): the big four, 농협, 기업, then the internet banks.
MOST_USED: tuple[str, ...] = ("004", "088", "020", "081", "011", "003", "090", "092", "089", "071")
assert set(MOST_USED) <= set(BANKS)

# What people type to find a bank besides its Korean name (English names, short forms).
ALIASES: dict[str, str] = {
    "002": "KDB Korea Development Bank 산은",
    "003": "IBK Industrial Bank of Korea 기업",
    "004": "KB Kookmin 국민",
    "007": "Suhyup",
    "011": "NH Nonghyup 농협",
    "012": "NH Nonghyup local 농축협 단위농협",
    "020": "Woori",
    "023": "SC Standard Chartered",
    "027": "Citibank",
    "031": "iM Bank DGB Daegu 대구",
    "032": "BNK Busan",
    "034": "Kwangju Gwangju",
    "035": "Jeju",
    "037": "Jeonbuk",
    "039": "BNK Kyongnam Gyeongnam",
    "045": "MG Saemaeul",
    "048": "Shinhyup Credit Union",
    "050": "Savings bank",
    "071": "Korea Post Epost",
    "081": "Hana KEB 하나",
    "088": "Shinhan 신한",
    "089": "K bank Kbank",
    "090": "Kakao Bank 카카오",
    "092": "Toss Bank 토스",
}


def banks_by_use(query: str = "") -> tuple[list[str], list[str]]:
    """Bank codes matching ``query`` (in the Korean name or an alias, ignoring case and
    spaces): the most used ones in their order, then the others."""
    q = "".join(query.split()).casefold()

    def hit(code: str) -> bool:
        text = "".join((BANKS[code] + ALIASES.get(code, "")).split()).casefold()
        return q in text

    most = [c for c in MOST_USED if hit(c)]
    rest = [c for c in BANKS if c not in MOST_USED and hit(c)]
    return most, rest


class InvalidBankAccount(DomainError):
    code = "invalid_bank_account"


_DIGITS = re.compile(r"[\s\-]+")


def normalise_account_number(bank_code: str, account_number: str) -> str:
    if bank_code not in BANKS:
        raise InvalidBankAccount(f"unknown bank code {bank_code[:8]!r}", reason="bank_code")
    digits = _DIGITS.sub("", account_number)
    if not (digits.isascii() and digits.isdigit()) or not (10 <= len(digits) <= 16):
        raise InvalidBankAccount("an account number has 10 to 16 digits", reason="account_number")
    return digits


def mask_account(account_number: str) -> str:
    return "*" * (len(account_number) - 4) + account_number[-4:]


def same_holder(a: str, b: str) -> bool:
    """Holder names compare without spaces and case (banks print 홍길동 and 홍 길동 alike)."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()
