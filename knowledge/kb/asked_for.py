"""What a question asks for, beside the measures its words name: amnesty asked for whatever else is
told, whether one may apply, an appeal, a postponement asked for someone already in prison.
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
