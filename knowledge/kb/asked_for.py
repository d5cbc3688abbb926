"""What a question asks for, beside the measures its words name: amnesty asked for whatever else is
told, whether one may apply, an appeal, a postponement asked for someone already in prison, what
follows a commutation.
Patterns on folded text."""

from __future__ import annotations

import re

# Someone already serving the sentence cannot be granted a postponement, only a suspension.
IN_PRISON = re.compile(
    r"\b(dang (o|trong) (trai|tu)|dang (chap|thi) hanh an\b(?! treo)|dang ngoi tu"
    r"|(dang )?(o|bi giam o|chap hanh an o) trai giam)\b"
)
NOT_IN_YET = re.compile(r"\bchua (phai |bi )?(vao trai|di tu|thi hanh|chap hanh|bat di)\b")
# "... thì có được xét đặc xá không": amnesty is what is asked for, whatever else is told.
ASKS_AMNESTY = re.compile(r"\bco (duoc|dc|the) (\w+ ){0,3}?(xet |de nghi )?(dac xa|an xa)\b")
# "có được làm đơn (xin đặc xá) không": whether the person may, not how to write it.
MAY_APPLY = re.compile(r"\bco (duoc|dc) (lam|viet|nop) don( xin)?( \w+){0,8}? (khong|ko|k|chua)\b")
APPEAL = re.compile(r"\b(khang cao|khang nghi|phuc tham)\b")
# "Nếu được ân giảm thì phải ở bao lâu mới được xét giảm": what follows the commutation.
IF_COMMUTED = re.compile(r"\b(neu|khi|sau khi) (duoc|dc) an giam\b")


def in_prison_now(flat: str) -> bool:
    """Serving the sentence now ("đang ở trại"), not waiting to go in ("chưa phải vào trại")."""
    return bool(IN_PRISON.search(flat)) and not NOT_IN_YET.search(flat)


def asked_among(tied: list[str], named: list[str], flat: str) -> str | None:
    """The measure a question asks about, when its words tell: "kháng cáo xin án treo" (appeal
    and suspended sentence named equally) asks about the appeal; "nếu được ân giảm thì phải ở bao
    lâu mới được xét giảm" asks about what follows the commutation, whatever else it names."""
    if len(tied) > 1 and "trial" in tied and "amnesty" not in tied and APPEAL.search(flat):
        return "trial"
    if "commutation" in named and IF_COMMUTED.search(flat):
        return "commutation"
    return None
