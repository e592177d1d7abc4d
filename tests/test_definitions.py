"""Deployed SOP versions: which one a disposition starts, and variants with other task ids."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, Report
from engine.services import definitions
from tests.helpers import Api, deploy_sop

DEFAULT_SOP = Path(__file__).resolve().parent.parent / "bpmn/national/sop-default.bpmn"


def variant_xml(suffix: str, *, drop_follow_up_form: bool) -> bytes:
    """The national SOP with every task id, the process id and the names changed."""
    text = DEFAULT_SOP.read_text(encoding="utf-8")
    for old in ("receive", "follow_up"):
        text = re.sub(rf'"{old}"', f'"{old}_{suffix}"', text)
        text = re.sub(rf'"{old}_di"', f'"{old}_{suffix}_di"', text)
        text = re.sub(rf">{old}<", f">{old}_{suffix}<", text)
    text = text.replace("lapor_sop_default", f"sop_{suffix}")
    text = text.replace('name="Tindak lanjut"', 'name="Tindak lanjut varian"')
    if drop_follow_up_form:
        start = text.index(f'id="follow_up_{suffix}"')
        form_start = text.index("<spiffworkflow:formSchema>", start)
        form_end = text.index("</spiffworkflow:formSchema>", form_start) + len(
            "</spiffworkflow:formSchema>"
        )
        text = text[:form_start] + text[form_end:]
    return text.encode("utf-8")


def deploy_for(factory: Any, code: str, xml: bytes) -> ProcessDefinition:
    return deploy_sop(factory, code, xml)


def test_identical_xml_is_one_version_new_xml_is_the_next(factory: Any):
    first = deploy_for(factory, "34.04", variant_xml("a", drop_follow_up_form=False))
    again = deploy_for(factory, "34.04", variant_xml("a", drop_follow_up_form=False))
    second = deploy_for(factory, "34.04", variant_xml("b", drop_follow_up_form=False))
    assert (first.version, again.version, second.version) == (1, 1, 2)
    assert first.id == again.id != second.id


def test_invalid_bpmn_is_refused_naming_the_field(factory: Any) -> None:
    with factory() as s, s.begin(), pytest.raises(InvalidInput) as err:
        definitions.deploy(s, key="sop-x", kind="sop", xml=b"<definitions>")
    assert err.value.field == "bpmn" and "not well-formed" in err.value.message


def test_a_user_task_without_a_form_is_refused_at_deploy(factory: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        deploy_for(factory, "34.04", variant_xml("noform", drop_follow_up_form=True))
    assert "'follow_up_noform' has no spiffworkflow:formSchema" in err.value.message
    assert err.value.extra["errors"][0]["element_id"] == "follow_up_noform"
    with factory() as s:
        assert (
            s.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "sop-34.04")) is None
        )


def test_variant_sop_with_other_ids_gets_forms_and_milestones(
    fresh_client: Any, factory: Any
) -> None:
    deploy_for(factory, "34.04", variant_xml("sleman", drop_follow_up_form=False))
    api = Api(fresh_client)
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})

    receive = api.task_for("sleman", tracking)
    assert (receive["bpmn_id"], receive["milestone"]) == ("receive_sleman", "disposition")
    assert receive["form_schema"]["properties"]["outcome"]["enum"] == [
        "disposisi",
        "bukan_wewenang",
    ]
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})

    follow_up = api.task_for("sleman.pu", tracking)
    assert follow_up["bpmn_id"] == "follow_up_sleman"
    assert follow_up["name"] == "Tindak lanjut varian"
    assert follow_up["milestone"] == "follow-up"
    # no formSchema in the variant: the national form of the same milestone applies
    assert "tindak_lanjut" in follow_up["form_schema"]["required"]
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "x"}, expect=422)
    api.complete("sleman.pu", tracking, {"tindak_lanjut": "Sudah diperbaiki oleh dinas PU."})
    assert api.report(tracking)["status"] == "followed_up"


def test_supervisor_sop_applies_then_default(fresh_client: Any, factory: Any) -> None:
    province = deploy_for(factory, "34", variant_xml("diy", drop_follow_up_form=False))
    api = Api(fresh_client)
    in_diy = api.file(region_code="34.71", target_instansi="34.71")["tracking_id"]
    elsewhere = api.file(region_code="51.03", target_instansi="51.03")["tracking_id"]
    for tracking, target in ((in_diy, "34.71"), (elsewhere, "51.03")):
        api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": target})
    with factory() as s:
        used = dict(
            s.execute(
                select(Report.tracking_id, ProcessDefinition.key)
                .join(ProcessInstance, ProcessInstance.report_id == Report.id)
                .join(ProcessDefinition)
                .where(ProcessInstance.parent_id.is_not(None))
            ).all()
        )
        assert used == {in_diy: province.key, elsewhere: definitions.DEFAULT_SOP_KEY}
        task = s.scalar(select(HumanTask).where(HumanTask.bpmn_id == "receive_diy"))
        assert task is not None and task.milestone == "disposition"


def test_running_instance_keeps_its_version(fresh_client: Any, factory: Any) -> None:
    v1 = deploy_for(factory, "34.04", variant_xml("one", drop_follow_up_form=False))
    api = Api(fresh_client)
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    v2 = deploy_for(factory, "34.04", variant_xml("two", drop_follow_up_form=False))
    assert v2.version == v1.version + 1
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    assert api.task_for("sleman.pu", tracking)["bpmn_id"] == "follow_up_one"
