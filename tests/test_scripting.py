"""The restricted evaluator for designer-written BPMN scripts and expressions.

Allowed code gives the results plain Python would; escape attempts and resource blowups are
refused (by the validator before anything runs, or by the size checks while running), also end
to end inside a running workflow, and `check_spec` finds them at deploy time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.runtime import Workflow, compile_bpmn
from engine.runtime.compiler import parse_specs
from engine.runtime.safe_xml import parse_untrusted_xml
from engine.runtime.scripting import (
    MAX_SOURCE_CHARS,
    RESTRICTED_ENGINE,
    RestrictedEnvironment,
    ScriptProblem,
    ScriptRefused,
    check_spec,
    compile_expression,
    compile_script,
)
from engine.runtime.serializer import SERIALIZER
from engine.runtime.workflow import EngineFailure

ROOT = Path(__file__).resolve().parent.parent
ENV = RestrictedEnvironment()


def evaluate(expression: str, **data: Any) -> Any:
    return ENV.evaluate(expression, data)


def execute(script: str, **data: Any) -> dict[str, Any]:
    ENV.execute(script, data)
    return data


# --- allowed code -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ('outcome == "forward"', {"outcome": "forward"}, True),
        ('outcome == "forward"', {"outcome": "tunda"}, False),
        (
            'instansi_result["result"] == "bukan_wewenang"',
            {"instansi_result": {"result": "bukan_wewenang"}},
            True,
        ),
        (
            'pelapor_rating["satisfied"] or reopened',
            {"pelapor_rating": {"satisfied": False}, "reopened": True},
            True,
        ),
        ('\n   pelapor_rating["satisfied"] or reopened\n  ', {"pelapor_rating": {}}, None),
        ('"PT1S"', {}, "PT1S"),
        ("wake_at", {"wake_at": "2033-03-07T09:00:00+07:00"}, "2033-03-07T09:00:00+07:00"),
        ("a + b * 2 - c // 3 % 5 / 2", {"a": 1, "b": 2, "c": 9}, 1 + 2 * 2 - 9 // 3 % 5 / 2),
        ("1 if x > 2 else 0", {"x": 3}, 1),
        ("not x and -y < 0 and ~0 == -1", {"x": False, "y": 1}, True),
        ("1 < x <= 3 and x in [2, 3] and x not in {4}", {"x": 2}, True),
        ("a is None and b is not None", {"a": None, "b": 0}, True),
        ("len(s) + max(1, 2) + min([3, 4]) + abs(-1) + sum([1, 2.5])", {"s": "ab"}, 11.5),
        ("round(2.567, 2) + round(7) + int('12') + float('0.5')", {}, 2.57 + 7 + 12 + 0.5),
        ("str(12) + str([1, 'a']) + str()", {}, "12[1, 'a']"),
        ("sorted(x, key=str, reverse=True)", {"x": [3, 10, 2]}, [3, 2, 10]),
        ("any([0, 1]) and all([1]) and bool(1)", {}, True),
        ("dict(a=1) | {'b': 2}", {}, {"a": 1, "b": 2}),
        ("list((1, 2)) + list(tuple([3])) + sorted(set([4]))", {}, [1, 2, 3, 4]),
        ("d.get('k', 0) + len(d.keys()) + len(d.values()) + len(d.items())", {"d": {}}, 0),
        ("s.strip().lower().upper().title().capitalize()", {"s": " hai "}, "Hai"),
        ("s.lstrip('x').rstrip('y').startswith('a') and s.endswith('y')", {"s": "xay"}, True),
        ("','.join(s.split()) + str(s.count('a')) + str(s.index('b'))", {"s": "a b"}, "a,b12"),
        ("s.isdigit() or s.isalpha()", {"s": "12"}, True),
        ("l[1:] + l[:1] + l[::-1]", {"l": [1, 2]}, [2, 1, 2, 1]),
        ('f"{a}-{b!r}-{c!s}-{d!a}"', {"a": 1, "b": "x", "c": [1], "d": "é"}, "1-'x'-[1]-'\\xe9'"),
        ("'a' * 3 + 'b' * 0", {}, "aaa"),
        ("{1, 2} - {2} | {3}", {}, {1, 3}),
    ],
)
def test_allowed_expressions_evaluate_as_python(
    expression: str, data: dict[str, Any], expected: Any
) -> None:
    if expected is None:  # a missing key is an ordinary error, not a refusal
        with pytest.raises(KeyError):
            evaluate(expression, **data)
        return
    assert evaluate(expression, **data) == expected


def test_scripts_write_back_like_the_library() -> None:
    data = {"x": 1, "gone": 2, "_hidden": 3, "items": [0]}
    script = (
        'result = "closed"\n'
        "reopened = True\n"
        "del gone\n"
        "a = b = x + 1\n"
        "c, d = (2, 3)\n"
        "if a > 1:\n    e = 'yes'\nelse:\n    e = 'no'\n"
        "x += 10\n"
        "items += [1]\n"
        "items.append(2)\n"
        "m = {'k': 1}\n"
        "m['j'] = 2\n"
        "m.update({'z': 3})\n"
        "popped = m.pop('z')\n"
        "f = len\n"
        "pass"
    )
    ENV.execute(script, data)
    assert data == {
        "x": 11,
        "_hidden": 3,
        "items": [0, 1, 2],
        "result": "closed",
        "reopened": True,
        "a": 2,
        "b": 2,
        "c": 2,
        "d": 3,
        "e": "yes",
        "m": {"k": 1, "j": 2},
        "popped": 3,
    }  # functions (f = len) are dropped, as the library does


def test_a_failing_script_leaves_task_data_alone() -> None:
    data = {"x": 1}
    with pytest.raises(KeyError):
        ENV.execute("x = 2\ny = {}['missing']", data)
    assert data == {"x": 1}


def test_underscore_keys_are_invisible_and_cannot_shadow_helpers() -> None:
    data = {"_lapor_binop": "not a function", "a": 1}
    assert ENV.evaluate("a + 1", data) == 2
    with pytest.raises(NameError):
        ENV.evaluate("b", {"_b": 1, "b_": 2})


def test_compiled_code_is_cached_by_source() -> None:
    assert compile_expression("outcome == 'x'") is compile_expression("outcome == 'x'")
    assert compile_script("a = 1") is compile_script("a = 1")


# --- refused code -------------------------------------------------------------------------------

REFUSED_BY_VALIDATOR = [
    ("__import__('os')", "'__import__'"),
    ("import os", "imports are not allowed (line 1)"),
    ("x = 1\nimport os", "imports are not allowed (line 2)"),
    ("from os import path", "imports are not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "starting with '_'"),
    ("open('/etc/passwd')", "calling 'open' is not allowed"),
    ("calendar.sys.modules", "is not allowed"),
    ("getattr(x, '__class__')", "calling 'getattr' is not allowed"),
    ("type(x)", "calling 'type' is not allowed"),
    ("eval('1')", "calling 'eval' is not allowed"),
    ("exec('1')", "calling 'exec' is not allowed"),
    ("globals()", "calling 'globals' is not allowed"),
    ("vars()", "calling 'vars' is not allowed"),
    ("[x for x in range(10**9)]", "comprehensions are not allowed"),
    ("{x: 1 for x in y}", "comprehensions are not allowed"),
    ("sum(x for x in y)", "generator expressions are not allowed"),
    ("while True: pass", "loops are not allowed"),
    ("for x in y: pass", "loops are not allowed"),
    ("(lambda f: f(f))(lambda f: f(f))", "lambda functions are not allowed"),
    ("def f():\n    pass", "function definitions are not allowed (line 1)"),
    ("class A: pass", "class definitions are not allowed"),
    ("with x: pass", "with statements are not allowed"),
    ("try:\n    x = 1\nexcept Exception:\n    pass", "try statements are not allowed"),
    ("raise ValueError", "raise statements are not allowed"),
    ("global x", "global declarations are not allowed"),
    ("(y := 1)", "assignment expressions (:=) are not allowed"),
    ("dict(*args)", "star unpacking (*) are not allowed"),
    ("dict(**x)", "'**' unpacking is not allowed"),
    ("x: int = 1", "annotated assignments are not allowed"),
    ("'a' * 10**9", "the power operator (**) is not allowed"),
    ("2 ** 10**9", "the power operator (**) is not allowed"),
    ("1 << 10**6", "shift operators"),
    ('f"{1:>999999999}"', "format specifications in f-strings are not allowed"),
    ('"%99999999d" % 1', "string formatting with % is not allowed"),
    ("'{0.__class__}'.format(x)", "attribute '.format' is not allowed"),
    ("s.ljust(10**8)", "attribute '.ljust' is not allowed"),
    ("s.replace('a', 'bb')", "attribute '.replace' is not allowed"),
    ("x.__class__", "attributes starting with '_' are not allowed ('.__class__')"),
    ("_x = 1", "names starting with '_' are not allowed ('_x')"),
    ("__builtins__", "names starting with '_' are not allowed"),
    ("x.y = 1", "assigning to or deleting attributes is not allowed"),
    ("d['k'] += 1", "only allowed to a plain name"),
    ("b'bytes'", "bytes constants are not allowed"),
    ("x = 1 +", "syntax error"),
    ("x" * (MAX_SOURCE_CHARS + 1), "too long"),
    ("x = " + "(" * 250 + "1" + ")" * 250, "syntax error"),  # the parser's own nesting limit
    ("x = " + "[" * 150 + "]" * 150, "nested more than"),
    ("x = " + " + ".join(["a"] * 150), "nested more than"),
]


@pytest.mark.parametrize(("source", "message"), REFUSED_BY_VALIDATOR)
def test_validator_refuses_escapes_with_a_message(source: str, message: str) -> None:
    with pytest.raises(ScriptRefused) as refused:
        compile_script(source)
    assert message in str(refused.value)
    assert str(refused.value).strip()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x.append(1)", "changes data and is not allowed in an expression"),
        ("d.update({})", "changes data"),
        ("x = 1", "syntax error"),
        ("import os", "syntax error"),
        ("__import__('os').getcwd()", "'__import__'"),
    ],
)
def test_expressions_are_pure_expressions(source: str, message: str) -> None:
    with pytest.raises(ScriptRefused) as refused:
        compile_expression(source)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("a = 'aaaa'\n" + "a = a + a\n" * 40, "joined sequence would be too large"),
        ("x = 10\n" + "x = x * x\n" * 40, "integer result too large"),
        ("a = 'a' * 1000\nb = a * 1000", "repeated sequence would be too large"),
        ("a = [0] * 100001", "repeated sequence would be too large"),
        ("fmt = '%99999999d'\ns = fmt % 1", "string formatting with % is not allowed"),
        ("a = ['x' * 100000] * 100000\nb = ''.join(a)", "joined string would be too large"),
        ("a = ['x' * 100000] * 100000\nb = str(a)", "value would be too large"),
        ("a = ['x' * 100000] * 100000\nb = f'{a}'", "value would be too large"),
        ("a = 'x' * 60000\nb = f'{a}{a}'", "f-string would be too large"),
        ("a = [1]\n" + "a = [a, a]\n" * 40, "task data would be too large"),
        ("a = [1]\n" + "a = [a, a]\n" * 40 + "s = str(a)", "value would be too large"),
        ("a = []\na.append(a)", "contains itself"),
        ("x = round(10, -1000000000000000000)", "round() takes at most"),
        ("x = sum([[1]] * 50000, [])", "sum() adds numbers only"),
        ("x = int('9' * 4000)", "integer result too large"),
        ("x = set(range(10))", "calling 'range' is not allowed"),
    ],
)
def test_blowups_are_refused_while_running(script: str, message: str) -> None:
    with pytest.raises(ScriptRefused) as refused:
        execute(script)
    assert message in str(refused.value)


def test_str_formatting_of_a_variable_is_refused_at_run_time() -> None:
    with pytest.raises(ScriptRefused, match="string formatting with %"):
        evaluate("fmt % 1", fmt="%99999999d")
    assert evaluate("n % 7", n=23) == 2  # numbers keep their modulo


# --- inside a running workflow ------------------------------------------------------------------

XMLNS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


def bpmn(body: str, *flows: str) -> bytes:
    """A one-process definition; `flows` are "source>target" or "source>target?condition"."""
    parts = []
    for i, flow in enumerate(flows):
        ends, _, condition = flow.partition("?")
        source, target = ends.split(">")
        inner = (
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
            "</bpmn:conditionExpression>"
            if condition
            else ""
        )
        parts.append(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{source}" targetRef="{target}">'
            f"{inner}</bpmn:sequenceFlow>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {XMLNS} id="d" '
        f'targetNamespace="t"><bpmn:process id="p" isExecutable="true">{body}'
        f"{''.join(parts)}</bpmn:process></bpmn:definitions>"
    ).encode()


def script_task(task_id: str, script: str) -> str:
    return f'<bpmn:scriptTask id="{task_id}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


GETCWD = 'cwd = __import__("os").getcwd()'
ESCAPE = bpmn(
    '<bpmn:startEvent id="s"/>' + script_task("escape", GETCWD) + '<bpmn:endEvent id="e"/>',
    "s>escape",
    "escape>e",
)


def test_the_library_default_engine_would_run_the_escape() -> None:
    """The hole this module closes: SpiffWorkflow's own engine imports `os` for the script."""
    compiled = compile_bpmn(ESCAPE)
    raw = json.loads(compiled.spec_json)
    spec = SERIALIZER.from_dict(raw["spec"])
    subs = {name: SERIALIZER.from_dict(sub) for name, sub in raw["subprocess_specs"].items()}
    plain = BpmnWorkflow(spec, subs)  # the library's default script engine
    plain.do_engine_steps()
    assert plain.completed and plain.data["cwd"] == os.getcwd()


def test_the_engine_refuses_the_escape_end_to_end() -> None:
    compiled = compile_bpmn(ESCAPE)
    with pytest.raises(EngineFailure) as failure:
        Workflow.start(compiled.checksum, compiled.spec_json, {})
    assert "calling '__import__' is not allowed (line 1)" in str(failure.value)
    assert failure.value.__cause__ is not None


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("import os", "imports are not allowed (line 1)"),
        ("x = 1\nimport os", "imports are not allowed (line 2)"),
        ("x = ().__class__.__bases__[0].__subclasses__()", "starting with '_'"),
        ("x = open('/etc/passwd').read()", "calling 'open' is not allowed"),
        ("a = 'aaaa'\n" + "a = a + a\n" * 40, "joined sequence would be too large"),
    ],
)
def test_script_task_escapes_become_engine_failures(script: str, message: str) -> None:
    xml = bpmn(
        '<bpmn:startEvent id="s"/>' + script_task("bad", script) + '<bpmn:endEvent id="e"/>',
        "s>bad",
        "bad>e",
    )
    compiled = compile_bpmn(xml)
    with pytest.raises(EngineFailure) as failure:
        Workflow.start(compiled.checksum, compiled.spec_json, {})
    assert message in str(failure.value)


def test_gateway_condition_and_timer_escapes_become_engine_failures() -> None:
    gateway = bpmn(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw" default="f2"/>'
        '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>',
        "s>gw",
        "gw>e1?__import__('os').system('true')",
        "gw>e2",
    )
    timer = bpmn(
        '<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="wait">'
        '<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
        "open('/etc/passwd').read()</bpmn:timeDuration></bpmn:timerEventDefinition>"
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>',
        "s>wait",
        "wait>e",
    )
    for xml, message in ((gateway, "'__import__'"), (timer, "calling 'open' is not allowed")):
        compiled = compile_bpmn(xml)
        with pytest.raises(EngineFailure) as failure:
            Workflow.start(compiled.checksum, compiled.spec_json, {})
        assert message in str(failure.value)


def test_loaded_workflows_and_their_subprocesses_use_the_restricted_engine() -> None:
    """A workflow restored from its saved state (as every request does) is restricted too,
    also inside an embedded subprocess."""
    xml = bpmn(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="ask"/>'
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/>'
        + script_task("inner", GETCWD)
        + '<bpmn:endEvent id="se"/><bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="sf2" sourceRef="inner" targetRef="se"/></bpmn:subProcess>'
        '<bpmn:endEvent id="e"/>',
        "s>ask",
        "ask>sub",
        "sub>e",
    )
    compiled = compile_bpmn(xml)
    started = Workflow.start(compiled.checksum, compiled.spec_json, {})
    loaded = Workflow.load(started.dump(), compiled.spec_json)
    assert loaded._wf.script_engine is RESTRICTED_ENGINE
    [ask] = loaded.ready_user_tasks()
    with pytest.raises(EngineFailure, match="calling '__import__' is not allowed"):
        loaded.complete_task(ask.guid, {})


def test_national_processes_run_on_the_restricted_engine() -> None:
    """The national SOP's scripts and conditions work: dispose, follow up, rate, close."""
    xml = (ROOT / "bpmn" / "national" / "sop-default.bpmn").read_bytes()
    compiled = compile_bpmn(xml)
    wf = Workflow.start(compiled.checksum, compiled.spec_json, {"reopened": False})
    assert wf._wf.script_engine is RESTRICTED_ENGINE
    wf.complete_task(wf.ready_user_tasks()[0].guid, {"outcome": "bukan_wewenang"})
    assert wf.completed and wf.data["result"] == "bukan_wewenang"


# --- deploy-time check --------------------------------------------------------------------------


def specs_of(xml: bytes) -> tuple[Any, Any]:
    tree = parse_untrusted_xml(xml)
    pid = tree.getroot().find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id")
    return parse_specs(tree, pid, "test.bpmn")


def test_check_spec_finds_script_condition_and_timer_problems() -> None:
    xml = bpmn(
        '<bpmn:startEvent id="s"/>'
        + script_task("good_script", 'result = "closed"')
        + script_task("bad_script", "x = 1\nimport os")
        + '<bpmn:exclusiveGateway id="gw" default="f4"/>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">open("/etc/passwd")'
        "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:userTask id="review"><bpmn:extensionElements>'
        "<spiffworkflow:preScript>y = x.__class__</spiffworkflow:preScript>"
        "<spiffworkflow:postScript>z = 1</spiffworkflow:postScript>"
        "</bpmn:extensionElements></bpmn:userTask>"
        '<bpmn:endEvent id="e"/>',
        "s>good_script",
        "good_script>bad_script",
        "bad_script>gw",
        "gw>wait?__import__('os').getcwd()",
        "gw>review",
        "wait>e",
        "review>e",
    )
    problems = check_spec(*specs_of(xml))
    by_element = {p.element_id: p for p in problems}
    assert sorted(by_element) == ["bad_script", "gw", "review", "wait"]
    assert by_element["bad_script"] == ScriptProblem(
        "bad_script", "script: imports are not allowed", 2
    )
    assert "condition of the flow to 'wait'" in by_element["gw"].message
    assert "'__import__'" in by_element["gw"].message
    assert by_element["wait"].message == "timer expression: calling 'open' is not allowed"
    assert by_element["wait"].line == 1
    assert by_element["review"].message.startswith("prescript: attributes starting with '_'")


def test_check_spec_walks_subprocesses_and_multi_instance_expressions() -> None:
    xml = bpmn(
        '<bpmn:startEvent id="s"/>'
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/>'
        + script_task("inner", "while True:\n    pass")
        + '<bpmn:endEvent id="se"/><bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="sf2" sourceRef="inner" targetRef="se"/></bpmn:subProcess>'
        '<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
        "<bpmn:loopCardinality>2 ** 10**9</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
        '<bpmn:endEvent id="e"/>',
        "s>sub",
        "sub>each",
        "each>e",
    )
    problems = check_spec(*specs_of(xml))
    assert {(p.element_id, p.message) for p in problems} == {
        ("inner", "script: loops are not allowed"),
        ("each", "loop cardinality: the power operator (**) is not allowed"),
    }


@pytest.mark.parametrize(
    "path",
    [
        "bpmn/national/intake.bpmn",
        "bpmn/national/sop-default.bpmn",
        "tests/bpmn/sop-timer-boundary.bpmn",
        "tests/bpmn/sop-timer-catch.bpmn",
    ],
)
def test_check_spec_accepts_our_own_processes(path: str) -> None:
    assert check_spec(*specs_of((ROOT / path).read_bytes())) == []


SERVICE_TASK = b"""<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="svc">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="r">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="url" type="str" value="'http://example.org'"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="svc"/>
    <bpmn:sequenceFlow id="f2" sourceRef="svc" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_service_task_fails_cleanly_into_an_engine_failure_and_the_linter_warns() -> None:
    """SpiffWorkflow's own refusal of an unconnected service raises a NameError; ours is an
    engine failure naming the operation, which the driver turns into an incident."""
    from engine.runtime.workflow import EngineFailure
    from engine.services import bpmn_lint

    compiled = compile_bpmn(SERVICE_TASK)
    wf = Workflow.new(compiled.checksum, compiled.spec_json, {})
    with pytest.raises(EngineFailure, match="'http/GetRequest' is not available"):
        wf.advance()
    assert wf.failed_tasks() == ["svc"]
    report = bpmn_lint.lint(SERVICE_TASK)
    assert report.ok and "no service connectors" in report.warnings[0].message
