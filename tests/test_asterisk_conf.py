"""asterisk-conf/ declares every name the service relies on, and relies on no unknown one."""

from __future__ import annotations

import re
from pathlib import Path

from cti.ami.connection import CALLER_CONTEXTS, RESYNC_VARIABLES
from cti.tracker.contract import Contract

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "asterisk-conf"
RECORDED = ROOT.parent / "shared" / "ami-captures" / "asterisk-conf-used" / "extensions.conf"


def contexts(text: str) -> dict[str, str]:
    """Context name -> its body, from an extensions.conf."""
    out: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        line = line.split(";", 1)[0].rstrip()
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            name = m.group(1)
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


EXT = contexts((CONF / "extensions.conf").read_text())


def user_events(body: str) -> dict[str, list[str]]:
    """UserEvent name -> the keys of its body (arguments may hold ``${FUNC(x)}``)."""
    out = {}
    for start in (m.end() for m in re.finditer(r"UserEvent\(", body)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(body[end], 0)
            end += 1
        name, *pairs = body[start : end - 1].split(",")
        out[name] = [kv.split(":")[0].strip() for kv in pairs]
    return out


def test_every_context_the_service_knows_is_declared() -> None:
    c = Contract()
    needed = set(c.inbound_contexts) | {
        c.wait_context,
        c.connect_context,
        c.transfer_context,
        c.agents_context,
        c.overflow_context,
    }
    assert needed <= set(EXT) - {"general", "globals"}
    assert set(CALLER_CONTEXTS) <= set(EXT)


def test_user_events_match_both_ways() -> None:
    c = Contract()
    declared = {name for body in EXT.values() for name in user_events(body)}
    assert declared == set(c.user_events) | {
        c.connecting_event,
        c.callback_result_event,
        c.announced_event,
    }


def test_wait_plays_the_announcement_the_service_sets() -> None:
    c = Contract()
    body = EXT[c.wait_context]
    assert user_events(body)[c.announced_event] == ["Sound"]
    assert "${" + c.announce_variable + "}" in body
    assert "${" + c.announce_at_variable + "}" in body


def test_callback_context_says_what_the_callbacks_desk_reads() -> None:
    c = Contract()
    keys = user_events(EXT[c.callback_context])[c.callback_result_event]
    assert keys == ["CallbackId", "CallbackAction", "DialStatus"]
    body = EXT[c.callback_context]
    assert "${" + c.callback_variable + "}" in body
    assert "${" + c.callback_action_variable + "}" in body
    assert "${" + c.overflow_prompt_variable + "}" in EXT[c.overflow_context]


def test_waiting_event_carries_what_the_tracker_reads() -> None:
    c = Contract()
    keys = user_events(EXT[c.wait_context])[c.waiting_event]
    assert {"DID", "Service", "Pres", "Since", "CtiPriority"} <= set(keys)
    connect = user_events(EXT[c.connect_context])
    assert connect[c.no_answer_event] == ["Agent", "Agents", "DialStatus"]
    assert connect[c.connecting_event] == ["Agent", "Agents"]


def test_the_presentation_is_announced_first_as_the_call_enters() -> None:
    """A trunk's ``Privacy: id`` raises no AMI event: the first step of every inbound
    context says ``CALLERID(pres)``, before the menu (AGI) and anything else."""
    c = Contract()
    for context in c.inbound_contexts:
        first = next(line for line in EXT[context].splitlines() if line.strip())
        assert first.startswith("exten =>") and ",1,UserEvent(" + c.caller_id_event in first
        assert user_events(first)[c.caller_id_event] == ["DID", "Pres"]
        assert "Pres: ${CALLERID(pres)}" in first


def test_connect_context_dials_every_agent_of_the_offer_in_one_dial() -> None:
    """``AGENTS`` (``201&202``, ring_together) becomes ``Local/201@agents&Local/202@agents``
    in one Dial; without it, ``AGENT`` alone; it is cleared with AGENT before the next wait."""
    c = Contract()
    body = EXT[c.connect_context]
    agents, sep, ctx = c.agents_variable, c.agents_separator, c.agents_context
    fallback = f'${{IF($["${{{agents}}}" = ""]?${{{c.agent_variable}}}:${{{agents}}})}}'
    assert f"Set({agents}={fallback})" in body
    dials = [line for line in body.splitlines() if "Dial(" in line]
    assert dials == [
        f" same => n,Dial(Local/${{STRREPLACE({agents},{sep},@{ctx}{sep}Local/)}}@{ctx},"
        "${AGENT_RING},t)"
    ]
    assert f"Set({agents}=)" in body and f"Set({c.agent_variable}=)" in body


def test_wait_context_reads_the_safety_deadline_the_router_pushes() -> None:
    c = Contract()
    body = EXT[c.wait_context]
    assert "${" + c.safety_variable + "}" in body and "${" + c.wait_start_variable + "}" in body
    assert "Goto(hold)" in body  # the deadline is read again while the caller waits


def test_overflow_context_reads_what_the_router_sets() -> None:
    c = Contract()
    body = EXT[c.overflow_context]
    for variable in (c.overflow_kind_variable, c.overflow_target_variable):
        assert "${" + variable + "}" in body
    kind_and_target = user_events(body)[c.overflow_event]
    assert kind_and_target == ["Kind", "Target"]
    assert "VoiceMail(" in body and "callback" in body


def test_variables_read_at_resync_are_set_by_the_dialplan() -> None:
    text = (CONF / "extensions.conf").read_text()
    for name in RESYNC_VARIABLES:
        if "(" in name:  # a dialplan function such as CALLERID(pres), always there
            continue
        assert re.search(rf"\b{re.escape(name)}\b", text), name


def test_recorded_dialplan_contexts_are_kept() -> None:
    recorded = set(contexts(RECORDED.read_text())) - {"citizen", "general", "globals"}
    assert recorded <= set(EXT)


def test_manager_user_has_no_dialplan_events_and_the_rights_it_needs() -> None:
    text = (CONF / "manager.conf").read_text()
    read = re.search(r"^read\s*=\s*(.+)$", text, re.M)
    write = re.search(r"^write\s*=\s*(.+)$", text, re.M)
    assert read and write
    assert set(read.group(1).split(",")) == {"system", "call", "user", "agent"}
    assert {"system", "call", "reporting", "originate"} == set(write.group(1).split(","))


def test_the_wait_offers_the_callback_key_and_runs_the_callback_dialogue() -> None:
    c = Contract()
    body = EXT[c.wait_context]
    assert "${" + c.callback_offer_variable + "}" in body
    assert "exten => 1,1," in body and "exten => t,1," in body and "exten => i,1," in body
    # Keying 1 leaves the line the way an overflow to a callback does (the tracker's word).
    assert user_events(body)[c.overflow_event] == ["Kind", "Target"]
    assert "AGI(${AGI_URL},${CTI_DID},rappel)" in body
    assert "${WAIT_START}" in body
