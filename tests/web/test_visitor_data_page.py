"""/dashboard/visitor-data: administrators export or erase a visitor's data from a page;
erasing needs its box ticked; agents get 403; both languages."""

from __future__ import annotations

import pytest

from devtone.domain import audit
from tests.conftest import _CSRF_INPUT, ON_SQLITE
from tests.visitor_data_steps import EMAIL, full_history, stored_files, traces_in_database

pytestmark = ON_SQLITE  # a form over the domain, whose erasure runs on both stacks


def erase_form(me, **fields):
    page = me.get("/dashboard/visitor-data").get_data(as_text=True)
    token = _CSRF_INPUT.search(page).group(1)
    return me.client.post("/dashboard/visitor-data", data={"csrf_token": token, **fields})


def test_the_page_offers_the_export_download_and_the_erase_form(admin, sign_in):
    page = sign_in(admin).get("/dashboard/visitor-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/api/visitors/export"' in html and 'method="get"' in html
    assert 'id="erase-confirm"' in html


def test_the_dashboard_links_admins_to_it(admin, agent, sign_in):
    assert "/dashboard/visitor-data" in sign_in(admin).get("/dashboard").get_data(as_text=True)
    assert "/dashboard/visitor-data" not in sign_in(agent).get("/dashboard").get_data(as_text=True)


def test_a_confirmed_erasure_erases_and_says_how_many(app, admin, agent, sign_in):
    full_history(app, agent)
    me = sign_in(admin)
    answer = erase_form(me, email=EMAIL, confirm="1")
    assert answer.status_code == 302
    assert "1 conversation erased." in me.get("/dashboard/visitor-data").get_data(as_text=True)
    assert traces_in_database(app) == [] and stored_files(app) == []
    with app.app_context():
        [entry] = audit.recent()
    assert entry["actor"] == {"kind": "agent", "id": admin.id, "name": "Ada Admin"}


def test_an_erasure_without_the_box_ticked_erases_nothing(app, admin, agent, sign_in):
    full_history(app, agent)
    answer = erase_form(sign_in(admin), email=EMAIL)
    assert answer.status_code == 422
    assert "Tick the box to confirm" in answer.get_data(as_text=True)
    assert traces_in_database(app)


@pytest.mark.parametrize("email", ["", "not an address"])
def test_an_address_that_is_none_is_shown_as_the_forms_error(app, admin, sign_in, email):
    answer = erase_form(sign_in(admin), email=email, confirm="1")
    assert answer.status_code == 422
    assert 'data-error-for="email"' in answer.get_data(as_text=True)
    with app.app_context():
        assert audit.recent() == []


def test_a_post_without_its_csrf_token_is_refused(app, admin, agent, sign_in):
    full_history(app, agent)
    answer = sign_in(admin).client.post(
        "/dashboard/visitor-data", data={"email": EMAIL, "confirm": "1"}
    )
    assert answer.status_code == 400
    assert traces_in_database(app)


def test_agents_who_are_not_admins_get_403(agent, sign_in):
    assert sign_in(agent).get("/dashboard/visitor-data").status_code == 403


def test_the_page_reads_in_brazilian_portuguese(app, admin, sign_in):
    me = sign_in(admin)
    page = me.get("/dashboard/visitor-data", headers={"Accept-Language": "pt-BR"})
    assert "Dados de um visitante" in page.get_data(as_text=True)
