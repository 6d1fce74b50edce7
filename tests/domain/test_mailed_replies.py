"""What a visitor wrote in a reply to devtone's e-mail: the quoted history and the
signature go, in the ways the common mail programs quote, in English and Portuguese."""

from email import message_from_bytes, policy

import pytest

from devtone.domain.fields import BODY_MAX
from devtone.domain.mailed_replies import fresh_html, fresh_text, reply_text

GMAIL_EN = """Thanks, it arrived!

On Mon, Dec 7, 2026 at 10:00 AM Support <support+c1.0123456789abcdef0123@example.com> wrote:
> Hello Ada!
> Your order ships today
"""
GMAIL_PT = """Obrigado, chegou!

Em seg., 7 de dez. de 2026 às 10:00, Suporte <suporte@example.com> escreveu:
> Olá João
"""
GMAIL_WRAPPED = """Fine by me.

On Mon, Dec 7, 2026 at 10:00 AM Acme Support Team <support+c1.0123456789abcdef0123@
example.com> wrote:

> Hello
"""
OUTLOOK = """Great, thanks.

-----Original Message-----
From: Support <support@example.com>
Sent: Monday, December 7, 2026 10:00 AM
To: Ada
Subject: New reply from Acme

Hello Ada!
"""
SIGNED = """See you then.

--
Ada Lovelace
Analytical Engines Ltd
"""
MOBILE = """Ok 👍

Sent from my iPhone

> On 7 Dec 2026, at 10:00, Support <support@example.com> wrote:
"""
MOBILE_PT = """Pode ser amanhã?

Enviado do meu iPhone
"""
BARE_QUOTES = """Yes, that one.
> Which order?
> #1234
"""


@pytest.mark.parametrize(
    ("reply", "fresh"),
    [
        (GMAIL_EN, "Thanks, it arrived!"),
        (GMAIL_PT, "Obrigado, chegou!"),
        (GMAIL_WRAPPED, "Fine by me."),
        (OUTLOOK, "Great, thanks."),
        (SIGNED, "See you then."),
        (MOBILE, "Ok 👍"),
        (MOBILE_PT, "Pode ser amanhã?"),
        (BARE_QUOTES, "Yes, that one."),
        ("Two lines\r\nof text\r\n", "Two lines\nof text"),
        ("<b>not html</b> & co", "<b>not html</b> & co"),
        ("", ""),
        ("> only quoted", ""),
        ("bell\x07 and null\x00 gone", "bell and null gone"),
    ],
)
def test_the_fresh_text_is_what_the_visitor_wrote(reply, fresh):
    assert fresh_text(reply) == fresh


def test_a_reply_longer_than_a_message_is_cut():
    body = fresh_text("é" * (BODY_MAX + 10))
    assert len(body) == BODY_MAX and body.endswith("…")


def test_an_html_reply_loses_its_quoted_part_and_its_markup():
    html = (
        "<div dir='ltr'>Thanks &amp; bye<br>Ada</div><br>"
        "<div class='gmail_quote'><div>On Mon, Dec 7, 2026 Support wrote:</div>"
        "<blockquote class='gmail_quote'>Hello Ada!</blockquote></div>"
    )
    assert fresh_html(html) == "Thanks & bye\nAda"


def test_an_html_reply_loses_its_styles_and_speaks_every_entity():
    html = (
        "<html><head><title>Re</title><style>p {color: red}</style></head>"
        "<body><p>Caf&eacute; &#8212; ok&nbsp;&#x1F600;</p></body></html>"
    )
    assert fresh_html(html) == "Café — ok 😀"


def message(content_type, body, charset="utf-8"):
    return message_from_bytes(
        f"From: ada@example.com\nTo: x@example.com\nSubject: Re\n"
        f"Content-Type: {content_type}; charset={charset}\n\n{body}".encode(),
        policy=policy.default,
    )


def test_the_plain_body_of_an_e_mail_is_read_before_its_html():
    mixed = message_from_bytes(
        "From: a@example.com\nSubject: Re\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b"\n\n'
        "--b\nContent-Type: text/plain; charset=utf-8\n\nPlain ✓\n\n> quoted\n"
        "--b\nContent-Type: text/html; charset=utf-8\n\n<p>Html</p>\n--b--\n".encode(),
        policy=policy.default,
    )
    assert reply_text(mixed) == "Plain ✓"
    assert reply_text(message("text/html", "<p>Only html</p>")) == "Only html"


def test_an_e_mail_without_text_has_nothing_to_post():
    assert reply_text(message("image/png", "iVBORw0KGgo=")) == ""
