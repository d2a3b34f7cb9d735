"""The 12110 SMS texts the system sends. Stored and sent in Chinese (the language of the
bureau's SMS sender, like the letters' and cases' messages), whatever the console's language.

They carry the incident number only, never what the person wrote: a phone may be read over
the person's shoulder. The person cannot call back by voice (12110 serves deaf and
speech-impaired people), so no text asks them to phone.
"""

SMS_TEXTS = {
    "ack_first": (
        "【12110】您的短信报警已收到（警情编号{number}），接警员正在处理，请留意回复短信。"
        "请尽量说明事发的详细地点和情况。"
    ),
    "ack_more": "【12110】短信已收到（警情编号{number}），接警员正在处理。",
    "ask_location": (
        "【12110】请告诉我们您现在的详细位置：所在区、街道、门牌号或附近的明显建筑物；"
        "如在车上，请告知车牌号和行驶方向。"
    ),
    "closing": "【12110】本次短信报警对话已结束。如有新的警情，请再次发送短信至12110。",
}
