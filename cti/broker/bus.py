"""The router's buses when web nodes serve the pages: every message also goes to the broker.

A ``BrokerBus`` is a ``cti.bus.Bus`` (pages opened on the router's node itself still
subscribe to it) that hands each message, serialised once, to the broker's subject. Page
messages go as plain messages; the live board's (domain events, the AMI link's state) go to
the stream, with an id made of the router's lease token and a count, unique per router and
the same when the link sends it again.
"""

from __future__ import annotations

import itertools
import json

from cti.broker.link import BrokerLink
from cti.bus import Bus, Message


class BrokerBus(Bus):
    def __init__(
        self,
        link: BrokerLink,
        subject: str,
        *,
        queue_size: int = 1000,
        stream_ids: str | None = None,
    ) -> None:
        super().__init__(queue_size)
        self.link = link
        self.subject = subject
        # Set: messages go to the stream with ids "<stream_ids>-<n>".
        self._ids = (
            None if stream_ids is None else (f"{stream_ids}-{n}" for n in itertools.count(1))
        )

    @property
    def wanted(self) -> bool:
        return True  # web nodes may hold pages for it

    def publish(self, message: Message) -> None:
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        super().publish(text)
        msg_id = None if self._ids is None else next(self._ids)
        self.link.publish(self.subject, text.encode(), msg_id)
