"""On a real Asterisk: a waiting caller hears her position and expected wait.

The lab's routing, with the front desk announcing on entry. Marie talks with a first caller;
a second one waits: the product renders « Votre appel est le prochain… » by speech
synthesis and Setvars it, ``cti-wait`` ends its short first slice of music, says
``CtiAnnounced`` and plays the file (``PLAYBACKSTATUS`` SUCCESS: Asterisk found the sound).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.asterisk.conftest import DATA, MakeLab


async def test_a_waiting_caller_hears_her_position_and_wait(
    make_lab: MakeLab, tmp_path: Path
) -> None:
    config = yaml.safe_load((DATA / "routing.yaml").read_text(encoding="utf-8"))
    config["services"]["accueil"]["announce"] = {"on_entry": True, "every_s": 60}
    routing = tmp_path / "routing-announce.yaml"
    routing.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    lab = await make_lab(agents=("201",), routing=routing)
    marie = await lab.agent("marie", "201")
    await marie.ready()
    first = await lab.call("0612345678")
    await marie.until(lambda m: m["type"] == "card.answered", "Marie's answer")
    mark = lab.ami.mark()
    second = await lab.call("0698765432")
    channel = await second.channel()
    announced = await lab.ami.until(
        lambda e: (
            e.get("Event") == "UserEvent"
            and e.get("UserEvent") == "CtiAnnounced"
            and e.get("Channel") == channel
        ),
        "the announcement played to the second caller",
        since=mark,
    )
    sound = announced["Sound"]
    assert sound.startswith("cti/")
    played = await lab.ami.until(
        lambda e: (
            e.get("Event") == "VarSet"
            and e.get("Channel") == channel
            and e.get("Variable") == "PLAYBACKSTATUS"
        ),
        "the end of the announcement",
        since=mark,
    )
    assert played["Value"] == "SUCCESS", lab.asterisk.log_tail()
    rows = lab.product.log_tail(400)
    assert "Votre appel est le prochain." in rows
    await second.hang_up()
    await first.hang_up()
