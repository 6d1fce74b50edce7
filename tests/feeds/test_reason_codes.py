"""One table of reason codes: the browser's reasons.js and the server's list are the same."""

import re

from devtone.feeds import connection_log
from tests.servers import ROOT

REASONS_JS = ROOT / "devtone" / "static" / "js" / "realtime" / "reasons.js"


def browser_codes() -> list[str]:
    table = REASONS_JS.read_text().split("export const CODES = Object.freeze({", 1)[1]
    table = table.split("});", 1)[0]
    return re.findall(r'^\s+(\w+): "\w+",', table, flags=re.M)


def test_the_browser_and_the_server_share_one_table_of_reason_codes():
    assert browser_codes() == list(connection_log.REPORT_REASONS)


def test_a_report_with_a_code_outside_the_table_is_refused(client):
    answer = client.post(
        "/api/realtime/report", json={"from": "sse", "to": "poll", "reason": "SSE timeout"}
    )
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "reason"
