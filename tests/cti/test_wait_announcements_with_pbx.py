"""Position and expected wait told to waiting callers, by the whole product on the simulated
PBX (real AMI over TCP): the router's Setvars, ``cti-wait``'s slices, the sound played."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product
from cti.pbxsim.pbx import SimCall
from cti.prompts.library import SoundLibrary
from routing.engine import RoutingEngine
from routing.model import AnnounceRules
from tests.cti.pbx_product import on_simulated_pbx

CONFIG: dict[str, Any] = {
    "skills": {"etat-civil": "État civil"},
    "services": {
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 1},
            "announce": {"on_entry": True, "every_s": 60},
        },
    },
    "agents": {
        "201": {"name": "Marie", "skills": {"etat-civil": 3}},
        "202": {"name": "Paul", "skills": {"etat-civil": 3}},
    },
}


async def until(check: Callable[[], bool], what: str) -> None:
    async def loop() -> None:
        while not check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), 30)
    except TimeoutError:
        pytest.fail(f"never saw {what}")


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with on_simulated_pbx(
        tmp_path, CONFIG, ring=0.5, sim_time_scale=0.05, default_service="etat-civil"
    ) as product:
        yield product


def words_heard(product: Product, call: SimCall) -> list[str]:
    """What the caller heard in the wait, as the words the product rendered for it."""
    assert product.announcements is not None
    library = SoundLibrary(product.settings.sounds_dir, voice=product.settings.tts_voice)
    texts = {
        library.play_name(library.speech_key(a.text)): a.text for a in product.announcements.said
    }
    return [texts[sound] for sound in call.heard if sound in texts]


async def test_callers_hear_their_position_and_wait_on_entry(product: Product) -> None:
    """Marie takes the first call (Paul is in a meeting); the next two callers hear, as they
    start waiting, that they come next and second, with a wait counted on Marie alone."""
    assert product.pbx is not None
    tel = product.pbx.telephony
    product.router.set_agent_state("202", "paused", "réunion")
    product.router.set_agent_state("201", "ready", None)
    first = tel.place_call("0611111111", "Dupont", service="etat-civil", talk=3600)
    await until(lambda: first.stage == "connected", "Marie answering the first call")
    second = tel.place_call("0622222222", "Martin", service="etat-civil", talk=3600)
    await until(lambda: second.wait_start is not None, "the second caller waiting")
    third = tel.place_call("0633333333", "Durand", service="etat-civil", talk=3600)
    await until(lambda: bool(words_heard(product, second)), "the second caller's announcement")
    await until(lambda: bool(words_heard(product, third)), "the third caller's announcement")
    [said_second] = words_heard(product, second)
    [said_third] = words_heard(product, third)
    assert said_second.startswith("Votre appel est le prochain. Votre attente est estimée à ")
    assert said_third.startswith("Votre appel est en deuxième position. Votre attente est ")
    assert said_third.endswith("minutes. Merci de patienter.")
    # The first caller was answered at once: nothing was said to her.
    assert words_heard(product, first) == []


async def test_told_again_every_n_seconds_and_never_a_higher_position(product: Product) -> None:
    """With a repeat every second (set on the engine: the configuration asks for 30 s at
    least), a caller hears her announcement again and again, until she is put through."""
    assert product.pbx is not None
    tel = product.pbx.telephony
    engine = product.router.engine
    service = engine.config.services["etat-civil"]
    fast = replace(service, announce=AnnounceRules(on_entry=True, every_s=1.0))
    product.router.reload(RoutingEngine(replace(engine.config, services={"etat-civil": fast})))
    product.router.set_agent_state("202", "paused", "réunion")
    product.router.set_agent_state("201", "ready", None)
    first = tel.place_call("0611111111", "Dupont", service="etat-civil", talk=3600)
    await until(lambda: first.stage == "connected", "Marie answering the first call")
    waiting = tel.place_call("0622222222", "Martin", service="etat-civil", talk=3600)
    await until(lambda: len(words_heard(product, waiting)) >= 3, "three announcements")
    heard = words_heard(product, waiting)
    assert all(text.startswith("Votre appel est le prochain.") for text in heard)
    # Paul comes back: she is put through, and hears no more announcements.
    product.router.set_agent_state("202", "ready", None)
    await until(lambda: waiting.stage == "connected", "Paul answering her")
    told = len(waiting.heard)
    await asyncio.sleep(1.5)
    assert len(waiting.heard) == told
