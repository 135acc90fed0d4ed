"""Real SIP user agents for the lab: sipp as the operator's trunk and as the agents' phones.

Scenarios are written per run from the templates below (adapted from ../shared/asterisk/sip/,
whose behaviour against Asterisk 22 is recorded in its README). A phone is one sipp process in
server mode on its own port, answering OPTIONS by itself (``-aa``) and registered with digest
authentication by a second, short sipp whose Contact names the phone's port. A caller is one
sipp client call: it keeps the line until Asterisk hangs up or its patience runs out, and
presses each of its keys when the test tells it to (an in-dialog NOTIFY ``Event: cti-key``
sent through AMI ``PJSIPNotify``), so keys reach the menu when it listens, not after a guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

PCAPS = Path("/usr/share/sip-tester")
KEY_PCAP = {**{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)}, "#": "dtmf_2833_pound.pcap"}
KEY_PCAP["*"] = "dtmf_2833_star.pcap"

_HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'

_SDP = """v=0
      o=ua 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 0 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=sendrecv"""

_OK_TO_LAST = """  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def register_scenario(phone_port: int) -> str:
    """REGISTER with digest authentication (-au/-ap); the Contact is the phone's own port."""
    request = """      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[service]@[local_ip]:{port}>
      {auth}Expires: 3600
      Max-Forwards: 70
      User-Agent: sipp-phone-[service]
      Content-Length: 0
"""
    first = request.format(cseq=1, port=phone_port, auth="")
    second = request.format(cseq=2, port=phone_port, auth="[authentication]\n      ")
    return (
        _HEAD
        + '<scenario name="phone registers">\n'
        + f'  <send retrans="500"><![CDATA[\n{first}\n    ]]></send>\n'
        + '  <recv response="401" auth="true"/>\n'
        + f'  <send retrans="500"><![CDATA[\n{second}\n    ]]></send>\n'
        + '  <recv response="200"/>\n</scenario>\n'
    )


def phone_scenario(answer_after_ms: int | None, busy: bool = False) -> str:
    """An agent's phone: rings then answers after ``answer_after_ms`` (None: never), or busy.

    A CANCEL while ringing (the caller left, or the no-answer timeout) is answered properly
    (200 then 487), so the phone is ready for the next call.
    """
    ringing = """  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
"""
    # Asterisk qualifies the phone (OPTIONS, a dialog of its own): answered and done.
    invite = """  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="([0-9]+) INVITE" search_in="hdr" header="CSeq:" assign_to="dummy,invcseq"/>
    </action>
  </recv>
"""
    if busy:
        body = """  <send>
    <![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  <nop next="end"/>
"""
        return _scenario("phone busy", invite + body + _cancelled() + _END_PHONE)
    if answer_after_ms is None:
        wait_cancel = '  <recv request="CANCEL" next="cancelled"/>\n'
    else:
        wait_cancel = (
            f'  <recv request="CANCEL" timeout="{answer_after_ms}" ontimeout="answer"'
            ' next="cancelled"/>\n'
        )
    answer = f"""  <label id="answer"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      {_SDP}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
{_OK_TO_LAST}  <nop next="end"/>
"""
    return _scenario("phone", invite + ringing + wait_cancel + answer + _cancelled() + _END_PHONE)


# sipp refuses to run a scenario with a variable it assigns and never reads.
_END_PHONE = '  <label id="end"/>\n  <Reference variables="dummy"/>\n'


def _cancelled() -> str:
    return f"""  <label id="options"/>
{_OK_TO_LAST}  <nop next="end"/>
  <label id="cancelled"/>
{_OK_TO_LAST}  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$invcseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
"""


def key_pcaps(keys: str, folder: Path) -> list[Path]:
    """One RFC 4733 pcap per key press, renumbered so that each press comes after the last.

    sipp's pcaps come from one recording (digit 1 at RTP time 13280, digit 6 at 48800): played
    as 6 then 1, the second press goes back in time and Asterisk drops it as a duplicate of
    an earlier event. Each press here gets its own sequence numbers and timestamp.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, key in enumerate(keys):
        data = bytearray((PCAPS / KEY_PCAP[key]).read_bytes())
        link = struct.unpack_from("<I", data, 20)[0]
        offset, packet = 24, 0
        while offset < len(data):
            length = struct.unpack_from("<I", data, offset + 8)[0]
            frame = offset + 16 + (14 if link == 1 else 16)
            udp = frame + (data[frame] & 15) * 4
            struct.pack_into(">H", data, udp + 6, 0)  # no UDP checksum (IPv4 allows it)
            rtp = udp + 8
            struct.pack_into(">HI", data, rtp + 2, 1000 + 40 * index + packet, 8000 * (index + 1))
            offset += 16 + length
            packet += 1
        path = (
            folder / f"key-{index}-{'star' if key == '*' else 'pound' if key == '#' else key}.pcap"
        )
        path.write_bytes(bytes(data))
        paths.append(path)
    return paths


def caller_scenario(
    number: str,
    *,
    withheld: bool = False,
    keys: list[Path] | None = None,
    patience_ms: int = 600_000,
) -> str:
    """A citizen calling the town hall from ``number`` (the DID is sipp's ``-s``).

    Withheld: From anonymous with the number in P-Asserted-Identity and ``Privacy: id``, as
    French operators send it. The caller presses ``keys`` one at a time, each on a NOTIFY,
    hangs up after ``patience_ms`` unless Asterisk hangs up first. ``keys``: the presses'
    pcaps (``key_pcaps``).
    """
    if withheld:
        identity = (
            'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=[pid]SIPpTag00[call_number]\n'
            f'      P-Asserted-Identity: "Appelant" <sip:{number}@[local_ip]>\n'
            "      Privacy: id"
        )
    else:
        tag = "tag=[pid]SIPpTag00[call_number]"
        identity = f'From: "Appelant" <sip:{number}@[local_ip]:[local_port]>;{tag}'
    invite = f"""  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {identity}
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: sipp-trunk
      Content-Type: application/sdp
      Content-Length: [len]

      {_SDP}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="remote_to"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 ACK
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""
    presses = ""
    for pcap in keys or []:
        presses += f"""  <recv request="BYE" optional="true" next="bye"/>
  <recv request="NOTIFY"/>
{_OK_TO_LAST}  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
"""
    from_line = identity.splitlines()[0]
    # Then the line is kept until Asterisk hangs up, the test says "hang up" (one more
    # NOTIFY) or the caller's patience runs out.
    wait = f"""  <recv request="BYE" optional="true" next="bye"/>
  <recv request="NOTIFY" timeout="{patience_ms}" ontimeout="hangup" next="told"/>
  <label id="bye"/>
{_OK_TO_LAST}  <nop next="end"/>
  <label id="told"/>
{_OK_TO_LAST}  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {from_line}
      To:[$remote_to]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <label id="end"/>
"""
    return _scenario("citizen", invite + presses + wait)


def _scenario(name: str, body: str) -> str:
    return f'{_HEAD}<scenario name="{name}">\n{body}</scenario>\n'


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Sipp:
    """One sipp process; its logs stay in ``folder`` for a failed test's reader."""

    name: str
    process: asyncio.subprocess.Process
    folder: Path

    async def wait(self) -> int:
        return await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def errors(self) -> str:
        found = sorted(self.folder.glob("*errors.log"))
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in found)


async def start_sipp(
    name: str,
    folder: Path,
    scenario: str,
    target: str,
    *args: str,
) -> Sipp:
    folder.mkdir(parents=True, exist_ok=True)
    xml = folder / f"{name}.xml"
    xml.write_text(scenario, encoding="iso-8859-1")
    process = await asyncio.create_subprocess_exec(
        "sipp",
        *([target] if target else []),
        "-sf",
        str(xml),
        "-nostdin",
        "-trace_err",
        "-error_file",
        str(folder / f"{name}-errors.log"),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=folder,
    )
    return Sipp(name, process, folder)
