"""The agent's desk beyond the card, in a real browser (Debian's chromium, Playwright).

Transfers are chosen in one list that says who is free, on the phone or paused, by keyboard
alone: to a service (its free colleague takes it, blind; with nobody free, the citizen waits
for the service and its next agent gets her with the note) and to a colleague presented
first (Asterisk's Atxfer: Marie hangs up to hand the citizen over). The ring can beep (off by
default, remembered) and raise the browser's notification. A citizen's file opens from the
search outside any call, audited. A network cut is said, and once it is over the card is
back as it was. axe-core: no serious or critical issue; nothing scrolls sideways at 390 px.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product
from cti.audit_trail import AuditFilter, entries
from cti.pbxsim.pbx import AgentPhone
from cti.web.audit_log import read_after_writes
from tests.e2e.browsing import async_api, serious_violations
from tests.e2e.desk_pages import desk_product, no_sideways_scrolling, open_desk, set_state


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with desk_product(tmp_path) as product:
        assert product.pbx is not None
        # Phones that answer and stay on the line: nothing happens unless the test says so.
        for agent in ("201", "205"):
            product.pbx.telephony.agents[agent] = AgentPhone(ring=1, talk=3600)
        yield product


async def marie_takes_a_call(browser: Any, product: Product) -> tuple[Any, Any]:
    """Claire ready, then Marie: the call goes to Marie (Claire is paused until it rings)."""
    assert product.pbx is not None
    claire = await open_desk(browser, product, "claire")
    await set_state(claire, "Pause", "Pause")
    marie = await open_desk(browser, product, "marie")
    await set_state(marie, "Prêt", "Prêt")
    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await marie.locator("#call-stage", has_text="En communication").wait_for()
    await set_state(claire, "Prêt", "Prêt")
    return marie, claire


async def choose_by_keyboard(page: Any, typed: str) -> None:
    """Tab from the note field to the list, type the first letters of the choice."""
    await page.get_by_label("Motif de l'appel").focus()
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "transfer-to":
            break
    await page.keyboard.type(typed)


async def test_a_service_chosen_by_keyboard_goes_to_its_free_colleague(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    marie, claire = await marie_takes_a_call(browser, product)
    await choose_by_keyboard(marie, "Accueil")
    select = marie.get_by_label("Transférer à")
    await expect(select).to_have_value("service:accueil")
    options = await select.locator("option").all_inner_texts()
    assert "Accueil – 1 libre" in options, options
    # Nobody free at État civil (Marie is on this call): the citizen could wait for it.
    wait = "État civil – personne de libre : mettre en attente pour le service État civil"
    assert f"{wait} (personne en attente)" in options, options
    assert "Claire Morin – Libre" in options, options
    assert not [o for o in options if "Marie" in o], options  # not to herself
    assert await serious_violations(marie) == []
    await no_sideways_scrolling(marie)
    await marie.keyboard.press("Tab")
    await marie.keyboard.press("Enter")  # « Transférer »
    await expect(marie.locator("#transfer-status")).to_have_text(
        "Transfert vers Claire Morin en cours."
    )
    await claire.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await expect(marie.locator("#wrapup-text")).to_contain_text("transféré à Claire Morin")


async def test_a_service_with_nobody_free_puts_the_citizen_in_its_wait(
    product: Product, browser: Any
) -> None:
    """Claire (front desk) is on a break: Marie puts madame Dupont in the front desk's wait;
    back at her desk, Claire gets her with Marie's note and « Transféré par Marie Lambert »."""
    assert product.pbx is not None
    expect = async_api.expect
    claire = await open_desk(browser, product, "claire")
    await set_state(claire, "Pause", "Pause")
    marie = await open_desk(browser, product, "marie")
    await set_state(marie, "Prêt", "Prêt")
    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await marie.locator("#call-stage", has_text="En communication").wait_for()
    note = "Veut un rendez-vous pour une carte d'identité."
    await marie.get_by_label("Note sur l'appel").fill(note)
    await marie.get_by_role("button", name="Enregistrer la note").click()
    await marie.locator("#my-notes li", has_text=note).wait_for()
    await choose_by_keyboard(marie, "Accueil")
    select = marie.get_by_label("Transférer à")
    await expect(select).to_have_value("service:accueil")
    options = await select.locator("option").all_inner_texts()
    choice = "Accueil – personne de libre : mettre en attente pour le service Accueil"
    assert f"{choice} (personne en attente)" in options, options
    await expect(marie.locator("#transfer-hint")).to_contain_text(
        "« Transférer » met l'appel en attente pour ce service"
    )
    assert await serious_violations(marie) == []
    await no_sideways_scrolling(marie)
    await marie.keyboard.press("Tab")
    await marie.keyboard.press("Enter")  # « Transférer »
    await expect(marie.locator("#transfer-status")).to_contain_text(
        "Mis en attente pour le service Accueil, où personne n'attendait"
    )
    await expect(marie.locator("#wrapup-text")).to_contain_text(
        "Appel mis en attente pour le service Accueil."
    )
    # Back from her break: the waiting citizen rings at once (no « Prêt » badge to wait for).
    await claire.get_by_role("button", name="Prêt", exact=True).click()
    await claire.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await expect(claire.locator("#transferred-by")).to_have_text("Transféré par Marie Lambert")
    await claire.locator("#previous-notes li", has_text=note).wait_for()
    await expect(claire.locator("#service")).to_have_text("Accueil")
    assert await serious_violations(claire) == []


async def test_an_attended_transfer_hands_the_citizen_over_when_marie_hangs_up(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    marie, claire = await marie_takes_a_call(browser, product)
    note = "Demande d'acte de naissance, déjà vérifié l'identité."
    await marie.get_by_label("Note sur l'appel").fill(note)
    await marie.get_by_role("button", name="Enregistrer la note").click()
    await marie.locator("#my-notes li", has_text=note).wait_for()
    await choose_by_keyboard(marie, "Claire")
    await expect(marie.get_by_label("Transférer à")).to_have_value("agent:205")
    await marie.keyboard.press("Tab")
    await marie.keyboard.press("Tab")
    await marie.keyboard.press("Enter")  # « Présenter l'appel d'abord »
    await expect(marie.locator("#transfer-status")).to_contain_text(
        "Votre téléphone appelle Claire Morin : présentez l'appel, puis raccrochez"
    )
    # Claire answers the consultation (her phone rings once); Marie hangs up her phone.
    call_id = await marie.locator("#card").get_attribute("data-call-id")
    call = product.service.tracker.call(call_id)
    assert call is not None and call.agent_channel is not None
    channel = product.pbx.telephony.find_channel(call.agent_channel)
    assert channel is not None
    await claire_answered_consultation(product, call_id)
    product.pbx.telephony.hangup_channel(channel)
    await claire.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await claire.locator("#previous-notes li", has_text=note).wait_for()
    await expect(marie.locator("#wrapup-text")).to_contain_text("Claire Morin")


async def claire_answered_consultation(product: Product, call_id: str) -> None:
    """Waits until Claire's phone is up on the consultation (her Local pair in Up state)."""
    assert product.pbx is not None
    sim = product.pbx.telephony
    for _ in range(200):
        call = next((c for c in sim.calls if c.linkedid == call_id), None)
        legs = call.consult_legs if call is not None else None
        if legs is not None and legs[0].state == 6:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("Claire's phone never answered the consultation")


async def test_the_ring_beeps_if_wanted_and_notifies(product: Product, browser: Any) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    marie = await open_desk(browser, product, "marie")
    # The browser's notifications, allowed, recorded rather than shown.
    await marie.context.add_init_script(
        """window.shown = [];
        window.Notification = class {
            static permission = "granted";
            static requestPermission() { return Promise.resolve("granted"); }
            constructor(title, options) { window.shown.push(title + " | " + options.body); }
            close() {}
        };"""
    )
    await marie.get_by_text("Être prévenue d'un appel").click()
    sound = marie.get_by_label("Un bip dans le navigateur quand le téléphone sonne")
    await expect(sound).not_to_be_checked()  # off by default
    await sound.check()
    await marie.reload()
    await marie.wait_for_selector("body[data-socket=open]")
    await marie.get_by_text("Être prévenue d'un appel").click()
    await expect(sound).to_be_checked()  # remembered in this browser
    await expect(marie.locator("#notify-state")).to_contain_text("Notifications autorisées")
    assert await serious_violations(marie) == []
    await set_state(marie, "Prêt", "Prêt")
    product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await marie.locator("#greeting", has_text="Bonjour madame Dupont").wait_for()
    await marie.wait_for_function("document.body.dataset.beeped === '1'")
    assert await marie.evaluate("window.shown") == [
        "Appel entrant | Bonjour madame Dupont – État civil"
    ]


async def test_a_citizens_file_opens_from_the_search_outside_a_call(
    product: Product, browser: Any
) -> None:
    expect = async_api.expect
    marie = await open_desk(browser, product, "marie")
    await marie.get_by_label("Nom, numéro ou dossier").fill("Jeanne Dupont")
    await marie.get_by_role("button", name="Rechercher").click()
    opener = marie.get_by_role("button", name="Ouvrir la fiche de madame Jeanne Dupont")
    await opener.first.focus()
    await marie.keyboard.press("Enter")
    name = marie.locator("#file-name")
    await expect(name).to_have_text("madame Jeanne Dupont")
    await expect(name).to_be_focused()
    await expect(marie.locator("#file-cases")).to_contain_text("Mariage : constitution du dossier")
    assert await marie.locator("#file-history .past-note").count() >= 1
    assert await serious_violations(marie) == []
    await no_sideways_scrolling(marie)
    opened = await read_after_writes(  # audited through the writer
        product.pop,
        lambda: entries(product.database, AuditFilter(action="card.open", username="marie")),
    )
    assert [e.detail for e in opened] == ["fiche ouverte hors appel"]
    await marie.get_by_role("button", name="Fermer la fiche").click()
    await expect(marie.locator("#file")).to_be_hidden()


class CuttableLink:
    """A TCP relay on loopback between the browser and the product, that can be cut: its
    connections are closed and new ones refused until ``restore``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cut = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def cut_now(self) -> None:
        self.cut = True
        for writer in list(self.writers):
            writer.transport.abort()

    def restore(self) -> None:
        self.cut = False

    async def close(self) -> None:
        self.cut_now()
        assert self.server is not None
        self.server.close()


async def test_a_network_cut_is_said_and_the_card_comes_back(
    product: Product, browser: Any
) -> None:
    assert product.pbx is not None
    expect = async_api.expect
    port = int(product.url.rstrip("/").rsplit(":", 1)[1])
    link = CuttableLink(port)
    await link.start()
    try:
        marie = await open_desk(browser, product, "marie", url=link.url)
        await set_state(marie, "Prêt", "Prêt")
        product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
        await marie.locator("#call-stage", has_text="En communication").wait_for()
        await marie.get_by_label("Motif de l'appel").select_option("Rendez-vous pris")
        link.cut_now()
        status = marie.locator("#link-status")
        await expect(status).to_contain_text("Connexion perdue : reconnexion en cours")
        assert await serious_violations(marie) == []
        link.restore()
        await expect(status).to_have_text("Connexion rétablie.")
        await marie.wait_for_selector("body[data-socket=open]")
        await expect(marie.locator("#greeting")).to_have_text("Bonjour madame Dupont")
        await expect(marie.locator("#call-stage")).to_have_text("En communication")
        # What she had chosen on the card is still there.
        assert await marie.get_by_label("Motif de l'appel").input_value() == "Rendez-vous pris"
        # A page opened afresh (the browser restarted) finds the call too.
        await marie.reload()
        await expect(marie.locator("#greeting")).to_have_text("Bonjour madame Dupont")
    finally:
        await link.close()
