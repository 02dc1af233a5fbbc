"""What a customer is told when their sale's money moves (paid, declined, held, returned),
in one language (Korean), as templates whose variables are written ``#{name}``: the
same body is a KakaoTalk 알림톡 template (adapters/sms/alimtalk.py registers them with
their codes) and, filled in, the SMS text. No code, PIN or full account number in any."""

from __future__ import annotations

NOTICES: dict[str, str] = {
    "paid": "[giftcash] 판매 대금 #{amount}이 #{account} 계좌로 입금되었습니다. 영수증 #{receipt}",
    "declined": (
        "[giftcash] 판매하신 상품권 #{count}장을 매입하지 못했습니다. "
        "사유와 방법은 내역에서 확인해 주세요."
    ),
    "held": (
        "[giftcash] 안전을 위해 판매 #{receipt}을(를) 확인하고 있습니다. "
        "확인이 끝나면 바로 입금됩니다."
    ),
    "returned": (
        "[giftcash] 은행이 판매 대금 #{amount}을(를) 돌려보냈습니다. 다른 본인 계좌를 골라 주세요."
    ),
}


def notice_text(event: str, **variables: str) -> str:
    """The notice for ``event`` with its variables filled in."""
    text = NOTICES[event]
    for name, value in variables.items():
        text = text.replace("#{" + name + "}", value)
    assert "#{" not in text, f"a variable of {event} was not given"
    return text
