"""The call tracker: Asterisk's channel events in, the life of each citizen's call out (pure)."""

from cti.ami.events import ListedChannel
from cti.tracker.contract import Contract
from cti.tracker.tracker import CallTracker, Stage

__all__ = ["CallTracker", "Contract", "ListedChannel", "Stage"]
