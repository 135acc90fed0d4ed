"""The AMI connection: a thin layer over panoramisk 1.4 that keeps the link honest.

panoramisk parses frames and matches responses to actions; around it we add what a
service that must not lose a call needs (see DESIGN.md, "What panoramisk 1.4 does"):

- MD5 challenge login when Asterisk offers it, plain ``Secret`` otherwise. panoramisk would
  log in by itself with a plain secret if it saw ``username`` in its config: we never give it.
- Reconnect with capped exponential backoff and jitter (panoramisk retries every 2 s,
  forever); a refused login waits ``auth_retry_delay`` before the next try.
- Keepalive: a Ping every ``ping_interval``; no answer within one more interval closes the
  link, so a silent peer is noticed within two intervals.
- After each login, before any event is trusted: ``CoreShowChannels`` (the whole EventList)
  and the variables we set on the citizens' channels, handed to ``on_resync``, then the
  phones' states (``DeviceStateList``), handed to ``on_devices``: an agent talking on a call
  that never passed through the town hall's dialplan (one she placed, a colleague's) is busy
  before the link is said ready, i.e. before any offer. Events that arrive meanwhile are held
  and delivered afterwards, in order. Then one INFO line says the link is up (or back).
- A frame the service cannot handle is logged and skipped; it never takes the link down.
- No action is ever replayed after a reconnect (panoramisk re-sends pending actions after
  ``FullyBooted``: a Redirect replayed minutes later would move a call that is elsewhere).
  Pending actions fail with ``AmiDisconnected``; callers decide again from the rebuilt state.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from cti.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiDisconnected,
    AmiError,
    AmiTimeout,
    action_error,
)
from cti.ami.events import (
    DeviceStateChanged,
    ListedChannel,
    parse_device_state,
    parse_listed_channel,
)
from cti.ami.protocol import RobustAMIProtocol

log = logging.getLogger("cti.ami")

EventCallback = Callable[[Mapping[str, Any], float], None]
ResyncCallback = Callable[[list[ListedChannel], float], None]
StateCallback = Callable[[str], None]
DevicesCallback = Callable[[list[DeviceStateChanged], float], None]

# Channels in these contexts are citizens' legs (or, in cti-callback, the agent's leg of a
# callback placed by the product) whose variables we read at resync.
CALLER_CONTEXTS = frozenset(
    {"from-pstn", "cti-wait", "cti-connect", "transfer", "cti-overflow", "cti-callback"}
)
RESYNC_VARIABLES = (
    "AGENT",
    "CTI_IVR_CHOICE",
    "CTI_IVR_PATH",
    "CTI_DID",
    "CTI_PRIORITY",
    "WAIT_START",
    "CTI_SERVICE_SINCE",
    "CALLERID(pres)",
    "CTI_CALLBACK",
    "CTI_CALLBACK_WAITED",
)
# Caller channels whose variables are asked at once during a resync (ten Getvars each).
RESYNC_WINDOW = 32
# Held events handed to the service per turn of the loop once the resync is done: between
# batches the loop reads the socket again (a PBX drops a session that stops reading).
HELD_BATCH = 200


@dataclass(frozen=True, slots=True)
class AmiParams:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "cti"
    secret: str = ""
    ping_interval: float = 10.0
    action_timeout: float = 10.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    auth_retry_delay: float = 30.0
    connect_timeout: float = 5.0


class _NeverReplay:
    """panoramisk's ``forgetable_actions``: every action is forgettable."""

    def __contains__(self, name: object) -> bool:
        return True


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager reduced to frame handling; the life of the link is ours."""

    def __init__(self, owner: AmiConnection, **config: Any) -> None:
        super().__init__(**config)
        self.owner = owner
        self.frames_skipped = 0
        self.bytes_received = 0
        self.forgetable_actions = _NeverReplay()

    def dispatch(self, event: Message) -> list[str]:
        self.owner._dispatch(event)
        return []

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        self.owner._lost(exc)


class AmiConnection:
    def __init__(
        self,
        params: AmiParams,
        on_event: EventCallback,
        on_resync: ResyncCallback | None = None,
        on_state: StateCallback | None = None,
        clock: Callable[[], float] = time.time,
        on_devices: DevicesCallback | None = None,
    ) -> None:
        self.params = params
        self._on_event = on_event
        self._on_resync = on_resync
        self._on_state = on_state
        self._on_devices = on_devices
        self._clock = clock
        self.state = "disconnected"
        self.reconnects = 0
        self.logins = 0
        self.last_error: str | None = None
        self._manager = _Manager(self, host=params.host, port=params.port)
        self._protocol: RobustAMIProtocol | None = None
        self._held: collections.deque[tuple[Message, float]] | None = None
        self._lost_future: asyncio.Future[None] | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # ------------------------------------------------------------------ public

    @property
    def frames_skipped(self) -> int:
        return int(self._manager.frames_skipped)

    @property
    def bytes_received(self) -> int:
        """Bytes read from Asterisk over every session so far (diagnostics, tests)."""
        return int(self._manager.bytes_received)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ami-connection")

    async def close(self) -> None:
        self._closing = True
        if self._protocol is not None:
            with contextlib.suppress(Exception):
                self._protocol.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set_state("disconnected")

    async def wait_ready(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def send(self, action: Mapping[str, Any], timeout: float | None = None) -> Message:
        """Send one action; its response, or our error for ``Response: Error``."""
        result = await self._send(action, timeout, as_list=False)
        response: Message = result[0] if isinstance(result, list) else result
        if response.get("Response") == "Error":
            raise action_error(
                str(action.get("Action")), response.get("Message", ""), action.get("Channel")
            )
        return response

    async def send_list(
        self, action: Mapping[str, Any], timeout: float | None = None
    ) -> list[Message]:
        """Send an action answered by an EventList; the list items (start and end removed)."""
        # Left to panoramisk to tell (``EventList: start``): told "a list", it waits for the
        # list's end after a ``Response: Error`` too, and the action times out.
        result = await self._send(action, timeout, as_list=None)
        messages = result if isinstance(result, list) else [result]
        if messages and messages[0].get("Response") == "Error":
            raise action_error(
                str(action.get("Action")), messages[0].get("Message", ""), action.get("Channel")
            )
        return [m for m in messages[1:] if m.get("EventList") != "Complete" and "Event" in m]

    # ------------------------------------------------------------------ link life

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            delay: float
            try:
                await self._session()
                attempt = 0
                delay = self.params.reconnect_min
            except AmiAuthError as exc:
                self.last_error = str(exc)
                log.error("%s; next try in %g s", exc, self.params.auth_retry_delay)
                self._set_state("auth_failed")
                delay = self.params.auth_retry_delay
            except (TimeoutError, OSError, AmiError) as exc:
                self.last_error = str(exc) or type(exc).__name__
                delay = self._backoff(attempt)
                attempt += 1
                log.warning(
                    "AMI link to %s:%s down (%s); reconnecting in %.1f s",
                    self.params.host,
                    self.params.port,
                    self.last_error,
                    delay,
                )
            finally:
                self._teardown()
            if self._closing:
                return
            if self.state != "auth_failed":
                self._set_state("disconnected")
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.params.reconnect_max, self.params.reconnect_min * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _session(self) -> None:
        """One connection: connect, log in, resync, then serve until the link drops."""
        loop = asyncio.get_running_loop()
        self._set_state("connecting")
        self._lost_future = loop.create_future()
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(
                lambda: RobustAMIProtocol(self._manager), self.params.host, self.params.port
            ),
            self.params.connect_timeout,
        )
        self._protocol = protocol
        self._held = collections.deque()  # hold events until the resync is done
        self._set_state("authenticating")
        await self._login()
        self.logins += 1
        if self.logins > 1:
            self.reconnects += 1
        self._set_state("resyncing")
        listed = await self._list_channels()
        if self._on_resync is not None:
            self._on_resync(listed, self._clock())
        devices = await self._list_devices()
        if devices is not None and self._on_devices is not None:
            self._on_devices(devices, self._clock())
        await self._deliver_held()
        self._set_state("ready")
        self._ready.set()
        log.info(
            "AMI link to %s:%s %s (Asterisk %s): %d channels and %s phone states read",
            self.params.host,
            self.params.port,
            "back" if self.logins > 1 else "up",
            getattr(self._protocol, "version", None) or "version unknown",
            len(listed),
            "no" if devices is None else len(devices),
        )
        keepalive = asyncio.create_task(self._keepalive())
        try:
            await self._lost_future
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
        raise AmiDisconnected()

    async def _deliver_held(self) -> None:
        """The events held during the resync, in order, a batch per turn of the loop: the
        socket is read between batches (events keep arriving and join the queue's end), so
        a long catch-up does not stop the reading (the PBX would drop the session)."""
        held = self._held
        while held:
            for _ in range(min(len(held), HELD_BATCH)):
                message, at = held.popleft()
                self._deliver(message, at)
            await asyncio.sleep(0)
        self._held = None

    def _teardown(self) -> None:
        self._ready.clear()
        protocol, self._protocol = self._protocol, None
        self._held = None
        if protocol is None:
            return
        pending = list(protocol.responses.values())
        protocol.responses.clear()
        with contextlib.suppress(Exception):
            protocol.close()
        for action in pending:
            if not action.future.done():
                action.future.set_exception(AmiDisconnected(str(action.get("Action"))))
                action.future.exception()  # retrieved: nobody may be awaiting it any more

    def _lost(self, exc: Any) -> None:
        if isinstance(exc, Message):
            log.warning(
                "Asterisk is shutting down (Shutdown: %s, Restart: %s)",
                exc.get("Shutdown"),
                exc.get("Restart"),
            )
        if self._lost_future is not None and not self._lost_future.done():
            self._lost_future.set_result(None)

    def _dispatch(self, message: Message) -> None:
        at = self._clock()
        if self._held is not None:
            self._held.append((message, at))
        else:
            self._deliver(message, at)

    def _deliver(self, message: Message, at: float) -> None:
        """Hand one event to the service; a failure there costs that event, not the link."""
        try:
            self._on_event(message, at)
        except Exception:
            self._manager.frames_skipped += 1
            log.exception(
                "AMI event %s (%s) skipped: the service could not handle it",
                message.get("Event"),
                ", ".join(f"{k}: {str(v)[:60]}" for k, v in list(message.items())[:6]),
            )

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)

    # ------------------------------------------------------------------ steps

    async def _send(
        self, action: Mapping[str, Any], timeout: float | None, as_list: bool | None
    ) -> Any:
        protocol = self._protocol
        name = str(action.get("Action"))
        if protocol is None or protocol.closed:
            raise AmiDisconnected(name)
        # One response or a list, said outright except for EventList actions (send_list):
        # left to guess (None), panoramisk 1.4 reads a missing ``Async`` header on
        # "successfully queued" (Atxfer) and raises KeyError.
        future = protocol.send(dict(action), as_list=as_list)
        limit = self.params.action_timeout if timeout is None else timeout
        lost = self._lost_future
        waiters: set[asyncio.Future[Any]] = {future}
        if lost is not None:
            waiters.add(lost)
        done, _ = await asyncio.wait(waiters, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        if future in done:
            return future.result()
        if lost is not None and lost in done:
            raise AmiDisconnected(name)
        raise AmiTimeout(name, limit)

    async def _login(self) -> None:
        p = self.params
        challenge = await self._send({"Action": "Challenge", "AuthType": "md5"}, None, False)
        if challenge.get("Response") == "Success" and challenge.get("Challenge"):
            key = hashlib.md5((challenge["Challenge"] + p.secret).encode()).hexdigest()
            login = {"Action": "Login", "AuthType": "md5", "Username": p.username, "Key": key}
        else:
            login = {"Action": "Login", "Username": p.username, "Secret": p.secret}
        login["Events"] = "on"
        # Asterisk answers a refused login after a deliberate 1 s delay.
        response = await self._send(login, max(p.action_timeout, 3.0), False)
        if response.get("Response") != "Success":
            raise AmiAuthError(p.host, p.port, p.username, response.get("Message", "refused"))

    async def _list_channels(self) -> list[ListedChannel]:
        items = await self.send_list({"Action": "CoreShowChannels"})
        listed_items = [item for item in items if item.get("Event") == "CoreShowChannel"]
        callers = [
            str(item.get("Channel", ""))
            for item in listed_items
            if item.get("Context") in CALLER_CONTEXTS
        ]
        variables = await self._read_callers_variables(callers)
        listed: list[ListedChannel] = []
        for item in listed_items:
            channel = parse_listed_channel(item, variables.get(str(item.get("Channel", "")), {}))
            if channel is not None:
                listed.append(channel)
        return listed

    async def _read_callers_variables(self, channels: Sequence[str]) -> dict[str, dict[str, str]]:
        """Every caller's variables, ``RESYNC_WINDOW`` channels' Getvars in flight at once.

        One Getvar at a time cost a round trip each: with thousands of callers waiting (a
        high call rate, callers waiting minutes) the resync took minutes on a busy loop, and
        every event of those minutes was held in memory (issue 18: +340 MB)."""
        window = asyncio.Semaphore(RESYNC_WINDOW)
        found: dict[str, dict[str, str]] = {}

        async def read(channel: str) -> None:
            async with window:
                found[channel] = await self._read_variables(channel, RESYNC_VARIABLES)

        tasks = [asyncio.create_task(read(channel)) for channel in dict.fromkeys(channels)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # The link dropped (AmiDisconnected, as is: a TaskGroup's ExceptionGroup would
            # escape the reconnect loop): the other reads are abandoned.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return found

    async def _list_devices(self) -> list[DeviceStateChanged] | None:
        """The device states Asterisk knows (``DeviceStateList``, res_manager_devicestate);
        None when it refuses the action: then phones are known by their next change only."""
        try:
            items = await self.send_list({"Action": "DeviceStateList"})
        except AmiActionError as exc:
            log.warning(
                "Asterisk at %s:%s did not list the phones' states (%s): an agent already on "
                "a call outside the CTI dialplan is seen busy only from her phone's next "
                "DeviceStateChange; load res_manager_devicestate.so",
                self.params.host,
                self.params.port,
                exc,
            )
            return None
        return [d for d in map(parse_device_state, items) if d is not None]

    async def _read_variables(self, channel: str, names: Sequence[str]) -> dict[str, str]:
        """The channel's variables, asked at once (Asterisk answers a session's actions in
        order); those after a refused one are dropped: the channel went away meanwhile,
        the events will say so."""
        asked = [
            self.send({"Action": "Getvar", "Channel": channel, "Variable": name}) for name in names
        ]
        answers = await asyncio.gather(*asked, return_exceptions=True)
        values: dict[str, str] = {}
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, AmiActionError):
                break
            if isinstance(answer, BaseException):
                raise answer
            value = answer.get("Value", "")
            if value:
                values[name] = value
        return values

    async def _keepalive(self) -> None:
        interval = self.params.ping_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self._send({"Action": "Ping"}, interval, False)
            except AmiTimeout:
                log.error(
                    "Asterisk at %s:%s did not answer Ping within %g s: closing the link",
                    self.params.host,
                    self.params.port,
                    interval,
                )
                if self._protocol is not None:
                    self._protocol.close()
                self._lost(None)
                return
            except AmiDisconnected:
                return
