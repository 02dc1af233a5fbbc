"""A person's age as Korean law counts it (만 나이) and the youngest age giftcash serves."""

from __future__ import annotations

from datetime import date

# 만 14세: below it a guardian's consent is needed to collect personal data (개인정보
# 보호법 §22-2), which giftcash does not take.
MIN_AGE_YEARS = 14


def age_years(birth_date: date, today: date) -> int:
    """Full years (만 나이): the birthday this year counts from its day."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)
