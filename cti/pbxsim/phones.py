"""The agents' phones as devices: ``DeviceStateChange`` as their channels change, and
``DeviceStateList``.

Asterisk derives a PJSIP endpoint's device state from its channels (devicestate.c's
``chan2dev`` and aggregation) and res_manager_devicestate sends each change as
``DeviceStateChange`` (``Device: PJSIP/201``, ``State: INUSE``, class call). The simulated
phone of agent 201 is ``Local/201@agents-…;2`` when the town hall's dialplan rings it (the
half that, on a real Asterisk, dials ``PJSIP/201``), and ``PJSIP/201-…`` when she places a
call herself or a colleague calls her (``own_calls``). Its state:

- RINGING while a channel of it rings, INUSE once one is up or dialling out, RINGINUSE for
  both, NOT_INUSE otherwise (a phone that answers busy refuses the call without being in
  use);
- each change goes out once, after the channel event that caused it, as Asterisk sends it
  (later, through stasis);
- ``DeviceStateList`` lists every agent's phone with its state, as Asterisk lists the phones
  it knows (a registered endpoint has a state from its first qualify on): one
  ``DeviceStateChange`` per phone with the ``ActionID`` and no ``Privilege``, then
  ``DeviceStateListComplete`` with ``EventList: Complete`` and ``ListItems``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cti.pbxsim.channels import Channel, Headers

# Device state of one channel of the phone, by channel state (STATE_DESC): devicestate.c's
# chan2dev for her own channel; the dialplan's ring of it rings until it is up.
_OWN = {4: "INUSE", 5: "RINGING", 6: "INUSE", 7: "INUSE"}
_RUNG = {4: "RINGING", 5: "RINGING", 6: "INUSE"}
# The channel events after which a phone's state may have changed.
_CHANNEL_EVENTS = frozenset({"Newchannel", "Newstate", "Hangup", "Rename"})


def phone_of(name: str) -> tuple[str, bool] | None:
    """The agent's extension behind a channel name, and whether it is her own channel
    (``PJSIP/201-0000000a``) rather than the dialplan's ring of it (``Local/201@agents-…;2``)."""
    if name.startswith("Local/") and name.endswith(";2") and "@agents-" in name:
        return name[len("Local/") : name.index("@")], False
    if name.startswith("PJSIP/"):
        endpoint, dash, _ = name[len("PJSIP/") :].rpartition("-")
        return (endpoint, True) if dash and endpoint else None
    return None


def device_state(extension: str, channels: Iterable[Channel]) -> str:
    """The phone's state from its channels, aggregated as devicestate.c does."""
    states: set[str] = set()
    for chan in channels:
        phone = phone_of(chan.name)
        if phone is not None and phone[0] == extension:
            states.add((_OWN if phone[1] else _RUNG).get(chan.state, "NOT_INUSE"))
    if "INUSE" in states:
        return "RINGINUSE" if "RINGING" in states else "INUSE"
    return "RINGING" if "RINGING" in states else "NOT_INUSE"


def device_event(extension: str, state: str, action_id: str | None = None) -> Headers:
    """A live change (``Privilege``), or a ``DeviceStateList`` item (its ``ActionID``)."""
    head: Headers = [("Event", "DeviceStateChange")]
    head += [("Privilege", "call,all")] if action_id is None else [("ActionID", action_id)]
    return head + [("Device", f"PJSIP/{extension}"), ("State", state)]


class PhoneStates:
    """Follows the channel events and says each phone's change of state."""

    def __init__(
        self,
        channels: Callable[[], Iterable[Channel]],
        extensions: Callable[[], Iterable[str]],
        emit: Callable[[Headers], None],
    ) -> None:
        self._channels = channels
        self._extensions = extensions
        self._emit = emit
        self._told: dict[str, str] = {}

    def state(self, extension: str) -> str:
        return device_state(extension, self._channels())

    def after(self, headers: Headers) -> None:
        """Called with every event the PBX sent: a phone's channel changed, its state may."""
        if not headers or headers[0][0] != "Event" or headers[0][1] not in _CHANNEL_EVENTS:
            return
        name = next((v for k, v in headers if k == "Channel"), "")
        phone = phone_of(name)
        if phone is None or phone[0] not in set(self._extensions()):
            return
        extension = phone[0]
        state = self.state(extension)
        if self._told.get(extension, "NOT_INUSE") != state:
            self._told[extension] = state
            self._emit(device_event(extension, state))

    def listing(self, action_id: str) -> list[Headers]:
        return [device_event(ext, self.state(ext), action_id) for ext in sorted(self._extensions())]
