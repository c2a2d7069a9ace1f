# ruff: noqa: E501  (HTML as a user writes it, long lines and all)
"""The messages of ``bench/send.py``'s grid: a short note, the ~8 KB message, a ~25 KB newsletter.

Each is the HTML a user would paste into ``lettr campaign create --html``, with the same merge
fields (``first_name``, ``city``, ``plan``, ``email``) and lettr's own ``{{ unsubscribe_link }}``
(mailmerge gets a static URL in its place). ``send.py`` imports this module from its folder.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBJECT = "{{ first_name }}, this week in {{ city }}"

STORY = (
    "<p style='margin:0 0 16px'>{lead} Our team spent the month talking to customers in "
    "{{{{ city }}}} and around the world, and the same wish came up again and again: fewer "
    "steps between an idea and the people it is for. This issue collects what we shipped for "
    "that, what is coming next, and a few stories from readers like you.</p>\n"
)

# The message the bench measured alone before: ~5 KB of HTML, ~8 KB once built (multipart).
MEDIUM = (
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example News</title>
<style>
  body { margin: 0; padding: 0; background: #f4f4f7; font-family: Helvetica, Arial, sans-serif; }
  .wrap { max-width: 600px; margin: 0 auto; background: #ffffff; }
  h1 { font-size: 24px; line-height: 1.3; color: #1a1a2e; margin: 0 0 16px; }
  h2 { font-size: 18px; color: #1a1a2e; margin: 24px 0 8px; }
  p { font-size: 16px; line-height: 1.5; color: #333333; }
  .button { display: inline-block; padding: 12px 24px; background: #3b5bdb; color: #ffffff;
            text-decoration: none; border-radius: 4px; font-weight: bold; }
  .footer { font-size: 12px; line-height: 1.4; color: #888888; }
  @media (max-width: 620px) { .wrap { width: 100% !important; } }
</style>
</head>
<body>
<table class="wrap" role="presentation" width="600" cellpadding="0" cellspacing="0">
<tr><td style="padding: 24px 32px;">
<h1>Hello {{ first_name }}, here is what is new in {{ city }}</h1>
"""
    + STORY.format(lead="Thank you for reading Example News.")
    + """<p style="margin:0 0 24px"><a class="button"
  href="https://example.com/offers/autumn?utm_source=newsletter&amp;utm_medium=email">See
  this week's offers</a></p>
<h2>From the blog</h2>
"""
    + STORY.format(lead="Our longest read this month is about planning a season of events.")
    + """<p><a href="https://example.com/blog/planning-a-season">Read the article on our blog</a>,
or browse <a href="https://example.com/blog">everything we published this year</a>.</p>
<h2>Events near {{ city }}</h2>
"""
    + STORY.format(lead="Meet us in person: workshops, meetups and office hours.")
    + """<p><a href="https://example.com/events?near=home">Find an event near you</a> or
<a href="https://example.com/events/online">join one online</a>.</p>
<h2>Your plan</h2>
<p>You are on the {{ plan }} plan. <a href="https://example.com/account/plan">Compare plans</a>
and see what changes when your team grows.</p>
"""
    + STORY.format(lead="One more thing before you go.")
    + """</td></tr>
<tr><td class="footer" style="padding: 16px 32px 32px;">
<p class="footer">You receive this because you signed up at example.com as {{ email }}.
<a href="{{ unsubscribe_link }}">Unsubscribe</a> at any time, or
<a href="{{ webversion_link }}">read this issue in your browser</a>.<br>
Example Ltd, 1 Main Street, Springfield</p>
</td></tr>
</table>
</body>
</html>
"""
)

# A short note: ~1.5 KB of HTML, two links (one in the text, the unsubscribe link).
SHORT = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>A short note</title></head>
<body style="margin:0;padding:24px;font-family:Helvetica,Arial,sans-serif;color:#333333">
<p style="font-size:16px;line-height:1.5">Hi {{ first_name }},</p>
<p style="font-size:16px;line-height:1.5">A quick note before the weekend: the workshop in
{{ city }} next Thursday still has a few seats left. It runs from ten to four, lunch is on us,
and we will spend the afternoon on the questions you send us beforehand, so bring the ones that
have been on your mind since the last release. There is no need to prepare anything else; a
laptop helps but is not required, and we will share the notes with everyone afterwards.</p>
<p style="font-size:16px;line-height:1.5">If you would like to come, you can
<a href="https://example.com/workshops/thursday?utm_source=note">save your seat here</a>; it
takes less than a minute. If Thursday does not suit you, reply to this message and tell us which
day would: we are planning the next round now and your answer counts.</p>
<p style="font-size:16px;line-height:1.5">Thank you for being on the {{ plan }} plan, and see
you soon,<br>The Example team</p>
<p style="font-size:12px;line-height:1.4;color:#888888">Sent to {{ email }} because you signed
up at example.com. <a href="{{ unsubscribe_link }}">Unsubscribe</a>.<br>Example Ltd, 1 Main
Street, Springfield</p>
</body>
</html>
"""

_CELL = (
    'style="padding:0 0 24px;font-family:Helvetica,Arial,sans-serif;font-size:15px;'
    'line-height:1.5;color:#333333"'
)
_ARTICLE = """<tr>
<td width="180" valign="top" style="padding:0 16px 24px 0">
<img src="https://example.com/images/story-{n}.jpg" width="180" height="120" alt="Story {n}"
 style="display:block;border:0;width:180px;height:120px;border-radius:4px"></td>
<td valign="top" {cell}>
<h3 style="margin:0 0 8px;font-size:18px;line-height:1.3;color:#1a1a2e;font-weight:bold">{title}</h3>
<p style="margin:0 0 8px;font-size:15px;line-height:1.5;color:#333333">Customers in
{{{{ city }}}} asked us about {topic}, so this month we looked at it from every side: what it
costs, what it saves, and what readers on the {{{{ plan }}}} plan told us after a season of
using it every day, with numbers and a checklist you can print.</p>
<p style="margin:0;font-size:14px;line-height:1.4"><a href="https://example.com/stories/{n}/read?utm_source=newsletter"
 style="color:#3b5bdb;font-weight:bold;text-decoration:none">Read the story &rarr;</a></p>
</td></tr>
"""
_TOPICS = [
    "planning a season of events",
    "moving a team to a new tool",
    "writing better product notes",
    "the cost of a slow checkout",
    "hiring the first support person",
    "pricing for a second market",
    "keeping a newsletter short",
    "measuring what a launch did",
    "the weekly review that works",
    "a calmer on-call rotation",
    "what customers mean by simple",
    "the spring release in detail",
    "a small shop's first year online",
]


def _newsletter() -> str:
    nav = "".join(
        f'<a href="https://example.com/{part.lower()}?utm_source=newsletter" style="color:#ffffff;'
        f'text-decoration:none;font-size:14px;padding:0 8px">{part}</a>'
        for part in ("Shop", "Blog", "Events", "Support")
    )
    articles = "".join(
        _ARTICLE.format(n=n, title=topic.capitalize(), topic=topic, cell=_CELL)
        for n, topic in enumerate(_TOPICS + _TOPICS[:9], start=1)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example News</title></head>
<body style="margin:0;padding:0;background:#f4f4f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f7">
<tr><td align="center" style="padding:24px 0">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:6px">
<tr><td style="background:#1a1a2e;padding:16px 24px;border-radius:6px 6px 0 0">
<a href="https://example.com/?utm_source=newsletter" style="color:#ffffff;font-size:20px;font-weight:bold;text-decoration:none">Example News</a>
<span style="float:right">{nav}</span></td></tr>
<tr><td style="padding:24px 24px 8px;font-family:Helvetica,Arial,sans-serif">
<h1 style="margin:0 0 12px;font-size:26px;line-height:1.3;color:#1a1a2e">Hello {{{{ first_name }}}}, this is the month in {{{{ city }}}}</h1>
<p style="margin:0 0 16px;font-size:16px;line-height:1.5;color:#333333">Twenty-two stories, two
offers and one invitation: the month at Example, picked for readers like you.</p>
<p style="margin:0 0 8px"><a href="https://example.com/offers/autumn?utm_source=newsletter&amp;utm_medium=email"
 style="display:inline-block;padding:12px 24px;background:#3b5bdb;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold">See this month's offers</a></p>
</td></tr>
<tr><td style="padding:16px 24px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0">
{articles}</table></td></tr>
<tr><td style="padding:16px 24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:12px;line-height:1.4;color:#888888;border-top:1px solid #eeeeee">
You receive this because you signed up at example.com as {{{{ email }}}}.
<a href="{{{{ unsubscribe_link }}}}" style="color:#888888">Unsubscribe</a> at any time, or
<a href="{{{{ webversion_link }}}}" style="color:#888888">read this issue in your browser</a>.<br>
Example Ltd, 1 Main Street, Springfield</td></tr>
</table></td></tr></table>
</body>
</html>
"""


NEWSLETTER = _newsletter()


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    html: str

    @property
    def links(self) -> int:
        return self.html.count("<a ")


WORKLOADS = [
    Workload("short", "short note", SHORT),
    Workload("medium", "8 KB message", MEDIUM),
    Workload("newsletter", "newsletter", NEWSLETTER),
]
