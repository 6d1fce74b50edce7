"""`flask --app devtone doctor URL` without a server: what it refuses to judge."""

import pytest


@pytest.mark.parametrize("url", ["ftp://support.example.com", "support.example.com", "http://"])
def test_a_url_that_is_not_http_is_an_error_naming_it(app, url):
    result = app.test_cli_runner().invoke(args=["doctor", url])
    assert result.exit_code == 1
    assert f"devtone does not answer at {url}" in result.output
    assert "not an http:// or https:// URL" in result.output
    assert "PASS" not in result.output
