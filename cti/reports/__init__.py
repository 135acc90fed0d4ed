"""History reports and the weekly quality page, computed from the calls' records.

Theory of operation: ``query`` reads the ``interactions`` of a period (a few bounded columns,
streamed in time order) into ``CallRecord``s; ``figures`` (pure) folds them into one table
per service, agent, day or hour; ``quality`` (pure) folds them per service and ISO week;
``csv_export`` writes any of these tables for French Excel. The web edge is
``cti/web/reports_api.py``.

Definitions (also in the README):

* **Outcome** of a call, as recorded by the screen pop: ``answered``, ``abandoned`` (the
  caller hung up while waiting or ringing), ``overflow`` (sent to voicemail or a callback
  request by the router), ``safety_net`` (taken by the dialplan's fallback queue), ``menu``
  (ended in the voice menu), ``lost`` and ``in_progress``.
* **Offered** (présentés): calls that reached a service queue, i.e. answered + abandoned +
  overflowed + safety net. Always ``offered == answered + abandoned + overflowed +
  safety_net``; every call of the period is also counted in ``calls`` (offered + self-served
  + lost + in progress).
* **Self-served** (traités par le menu): the voice menu's own record (table ``ivr_runs``,
  column ``self_served``) when that table exists, else the calls whose outcome is ``menu``.
* **Service level**: answered within the service's threshold (``sl_threshold_s`` of the
  routing configuration in force, 30 s for a service it does not know) / offered, in %.
* **Abandon delays**: the wait of abandoned calls, in buckets < 30 s, 30-60 s, 1-3 min,
  >= 3 min (a bucket holds its lower bound).
* **Average speed of answer**: mean wait of answered calls; **average handling time**: mean
  talk time of answered calls (wrap-up is not recorded).
* **Transfers**: answered calls that reached more than one agent (the record lists every
  agent the call was offered to, so a call answered after a colleague's no-answer counts too).
* **Repeat calls** (rappels sous 7 jours): calls whose citizen (the identified citizen, else
  the caller's number; withheld numbers never repeat) had already called in the 7 days
  before, calls before the period included.
* **Top reasons**: the agents' dispositions, and the menu choice that ended each call's
  menu path (its last node).
* A call belongs to the service it was last queued for, to the last agent it reached, and
  to the day and clock hour (Europe/Paris) it started.
"""
