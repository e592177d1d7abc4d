"""The designer page in a real browser: open the national default SOP, see a validation error
on the diagram, rename a task, deploy version 2, compare it with version 1; then reports
forwarded afterwards run on version 2 while an older report stays on version 1."""

from __future__ import annotations

import re
from contextlib import nullcontext
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import ProcessDefinition, ProcessInstance, Report
from engine.seed.loader import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, sign_in
from tests.helpers import Api

OLD_NAME = "Telaah dan disposisi"
NEW_NAME = "Telaah dan disposisi (SOP v2)"
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}

ADD_ORPHAN_TASK = """() => {
  const modeler = window.laporModeler;
  const pool = modeler.get('elementRegistry').filter((e) => e.type === 'bpmn:Participant')[0];
  const shape = modeler.get('elementFactory').createShape({ type: 'bpmn:Task' });
  const at = { x: pool.x + pool.width - 120, y: pool.y + 60 };
  return modeler.get('modeling').createShape(shape, at, pool).id;
}"""
RENAME = """([id, name]) => {
  const modeler = window.laporModeler;
  modeler.get('modeling').updateLabel(modeler.get('elementRegistry').get(id), name);
}"""


@pytest.fixture()
def api(live_server: LiveServer) -> Api:
    client = live_server.app.test_client()
    return Api(lambda: nullcontext(client))


def sop_version(factory: Any, tracking_id: str) -> int:
    with factory() as s:
        return int(
            s.scalar(
                select(ProcessDefinition.version)
                .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
                .join(Report, Report.id == ProcessInstance.report_id)
                .where(Report.tracking_id == tracking_id, ProcessInstance.parent_id.is_not(None))
            )
        )


def test_designer_deploys_a_renamed_task_and_new_reports_run_on_it(
    page: Any, api: Api, factory: Any
) -> None:
    older = api.file()["tracking_id"]
    api.complete("nasional", older, FORWARD)
    assert api.task_for("sleman", older)["name"] == OLD_NAME

    sign_in(page, "designer", DEMO_PASSWORD)
    page.wait_for_url("**/designer")
    status = page.locator("#status")
    page.locator('button[data-key="intake"][data-version="1"]').click()
    expect(page.locator("#current")).to_have_text("intake · v1")
    expect(page.get_by_role("button", name="Pasang")).to_be_disabled()  # SOPs only
    page.locator('button[data-key="sop-default"][data-version="1"]').click()
    expect(page.locator("#current")).to_have_text("sop-default · v1")
    expect(status).to_have_text("Dibuka: sop-default versi 1.")

    # a task nothing leads to: the validator's error lands on that element of the diagram
    orphan = page.evaluate(ADD_ORPHAN_TASK)
    page.get_by_role("button", name="Validasi").click()
    expect(status).to_contain_text("Diagram tidak valid")
    expect(page.locator(f'g.djs-element.lapor-error[data-element-id="{orphan}"]')).to_have_count(1)
    expect(page.locator(f'#problems li[data-element="{orphan}"]')).to_have_count(1)
    page.evaluate("() => window.laporModeler.get('commandStack').undo()")

    page.evaluate(RENAME, ["receive", NEW_NAME])
    page.get_by_role("button", name="Validasi").click()
    expect(status).to_have_text("Diagram valid.")
    expect(page.locator("g.djs-element.lapor-error")).to_have_count(0)
    page.get_by_role("button", name="Pasang").click()
    expect(status).to_have_text("Terpasang sebagai sop-default versi 2.")
    deployed = page.locator('button[data-key="sop-default"][data-version="2"]')
    expect(deployed).to_have_class(re.compile(r"\bcurrent\b"))

    page.locator("#compare-a").select_option("1")
    page.locator("#compare-b").select_option("2")
    page.get_by_role("button", name="Bandingkan", exact=True).click()
    renamed = page.locator("#differences li")
    expect(renamed).to_have_count(1)
    expect(renamed).to_have_attribute("data-kind", "renamed")
    expect(renamed).to_contain_text(f'receive: "{OLD_NAME}" → "{NEW_NAME}"')
    expect(page.locator('g.djs-element.lapor-renamed[data-element-id="receive"]')).to_have_count(1)

    newer = api.file()["tracking_id"]
    api.complete("nasional", newer, FORWARD)
    assert api.task_for("sleman", newer)["name"] == NEW_NAME
    assert api.task_for("sleman", older)["name"] == OLD_NAME
    assert (sop_version(factory, older), sop_version(factory, newer)) == (1, 2)

    # roll back from the page: version 1 applies to new reports again; the others keep theirs
    page.locator('button[data-key="sop-default"][data-version="1"]').click()
    expect(page.locator("#current")).to_have_text("sop-default · v1")
    page.get_by_role("button", name="Jadikan berlaku").click()
    expect(status).to_have_text("sop-default versi 1 kini berlaku untuk laporan baru.")
    first = page.locator('button[data-key="sop-default"][data-version="1"]')
    expect(first).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.get_by_role("button", name="Jadikan berlaku")).to_be_disabled()
    newest = api.file()["tracking_id"]
    api.complete("nasional", newest, FORWARD)
    assert api.task_for("sleman", newest)["name"] == OLD_NAME
    assert (sop_version(factory, newer), sop_version(factory, newest)) == (2, 1)
