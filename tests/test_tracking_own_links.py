"""Links to lettr's own pages written in the content ({{ unsubscribe_link }}, {{ webversion_link }},
{{ preferences_link }}) are not click links: following them is not a click."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.tracking_helpers import BROWSER, app_client, counters, events, sent_campaign

HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='{{ unsubscribe_link }}'>Leave</a> "
    "<a href='{{ webversion_link }}'>View online</a> "
    "<a href='https://example.com/offer'>See the offer</a>"
    "</body></html>"
)
ANN = "ann@example.com"


def test_own_links_stay_direct_and_only_the_real_link_is_a_click(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain, html=HTML)
    message = next(m for _, rcpts, m in smtp_server.arrived() if rcpts == [ANN])
    body = message.get_body(("html",))
    assert body is not None
    html = body.get_content()
    hrefs = re.findall(r"href=\"([^\"]+)\"", html)

    # Unsubscribe and web version go straight to lettr's pages; the offer is link 3, numbered
    # as it always was, so messages sent before this change keep working.
    assert hrefs[0].startswith("http://127.0.0.1:8025/u/")
    assert hrefs[1].startswith("http://127.0.0.1:8025/v/")
    assert [c.rsplit("/", 1)[1] for c in links[ANN].clicks] == ["3"]

    client = app_client(isolated_home)
    offer = client.get(links[ANN].clicks[0], headers={"User-Agent": BROWSER})
    assert offer.status_code == 302
    assert offer.headers["location"] == "https://example.com/offer"

    # A click link to an own page, as a message from before the change carries it: it still
    # leads there, but records no click.
    token_path = links[ANN].clicks[0].rsplit("/", 1)[0]
    old = client.get(f"{token_path}/1", headers={"User-Agent": BROWSER})
    assert old.status_code == 302
    assert "/u/" in old.headers["location"]

    stats = counters(isolated_home, campaign)
    assert (stats["clicks"], stats["unique_clicks"]) == (1, 1)
    assert [event[2] for event in events(isolated_home, "click")] == ["https://example.com/offer"]


def test_preview_links_lists_only_the_links_that_count_as_clicks(
    lettr, smtp_server, verified_domain, tmp_path: Path
) -> None:
    campaign, _ = sent_campaign(lettr, tmp_path, smtp_server, verified_domain, html=HTML)
    result = lettr("campaign", "preview", campaign, "--links", "--json")
    assert result.exit_code == 0, result.stderr
    links = json.loads(result.stdout)["links"]
    assert links == [{"number": 3, "url": "https://example.com/offer"}]
