"""The voice-menu editor in a real browser (Debian's chromium driven by Playwright).

The whole product runs in-process on the simulated PBX, whose calls go through the product's
FastAGI server and the published tree. Thierry (telecom) rewrites the greeting of the start
node and uploads its recording (a file that is not a sound is refused in French first),
publishes, and the next simulated call hears that recording. A menu choice pointing at a node
that does not exist cannot be published, neither from the editor (refused before anything is
sent) nor as a saved draft (the server refuses), and the problem names the node. Going back to
version 1 gives the next call the old greeting, said by speech synthesis. An agent gets no
access. The form and the YAML tab give each other the same tree, and the page's YAML agrees
with the server's. The "Mesures" panel shows the figures of the runs recorded, in the menu's
order or busiest first. axe-core finds no serious or critical accessibility issue.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import yaml  # type: ignore[import-untyped]

from cti import ivr_store
from cti.assembly import DEMO_PASSWORD, Product, running
from cti.pbxsim.pbx import SimCall
from cti.settings import Settings
from cti.voice_menu import DEFAULT_TREE
from ivr_scripts.measures import PARIS, MenuRun
from ivr_scripts.node_names import node_names
from ivr_scripts.tree import dump_tree, dump_tree_json, parse_tree
from tests.e2e.browsing import async_api, launched, need_browser, serious_violations

NEW_GREETING = "Bienvenue à la mairie de Testville"
OLD_GREETING = "Bonjour et bienvenue à la mairie."
# Keys 7: opening hours, then the menu hangs up by itself (the demo's menu lives on a
# Tuesday morning, open).
HOURS_KEYS = "7"

expect = async_api.expect
# One product and one browser for the module (starting the product takes seconds); every
# test leaves version 1 published, as it found it.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def product(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Product]:
    need_browser()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('ivr') / 'cti.db'}",
        http_port=0,
        demo_citizens=50,
        sim_rate=0,
        sim_time_scale=0.02,  # the menu's prompts and timeouts in a fiftieth of their time
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with launched() as chromium:
        yield chromium


async def log_in(
    browser: Any, product: Product, username: str, *, width: int = 1280, dialogs: bool = False
) -> Any:
    """The editor, logged in; a native dialog fails the test unless ``dialogs``."""
    context = await browser.new_context(locale="fr-FR", viewport={"width": width, "height": 900})
    page = await context.new_page()
    if not dialogs:
        page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(product.url + "ivr")
    await page.get_by_label("Identifiant", exact=True).fill(username)
    await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    return page


async def call_through_the_menu(product: Product) -> SimCall:
    """A citizen calls, asks for the opening hours and is hung up on by the menu."""
    assert product.pbx is not None
    call = product.pbx.place_call("0612345678", "Dupont", talk=None, keys=HOURS_KEYS)
    await asyncio.wait_for(call.ended.wait(), 20)
    return call


def version_row(page: Any, number: int) -> Any:
    return page.locator(f'#versions-table tr[data-version="{number}"]')


def confirmation(page: Any) -> Any:
    """The editor's own confirmation (a modal <dialog>, not the browser's)."""
    return page.get_by_role("dialog")


async def confirm(page: Any, button: str) -> None:
    dialog = confirmation(page)
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name=button, exact=True).click()
    await expect(dialog).to_be_hidden()


async def edit_yaml(page: Any, old: str, new: str) -> None:
    """Change the tree's text in the YAML tab, then come back to the form."""
    await page.get_by_role("tab", name="YAML").click()
    area = page.get_by_label("Arbre au format YAML (édition avancée)")
    text = await area.input_value()
    assert old in text
    await area.fill(text.replace(old, new))
    await page.get_by_role("tab", name="Formulaire").click()


async def published_version(page: Any, product: Product) -> int:
    answer = await page.request.get(product.url + "api/ivr/versions")
    number: int = (await answer.json())["published"]
    return number


async def version_count(page: Any, product: Product) -> int:
    answer = await page.request.get(product.url + "api/ivr/versions")
    return len((await answer.json())["versions"])


async def back_to_version_1(page: Any, product: Product) -> None:
    if await published_version(page, product) != 1:
        await version_row(page, 1).get_by_role("button", name="Revenir à cette version").click()
        await confirm(page, "Revenir à cette version")
        await expect(page.locator("#status")).to_contain_text("Version 1 publiée")


async def test_publish_a_new_greeting_refuse_a_broken_menu_and_roll_back(
    product: Product, browser: Any
) -> None:
    login_page = await (await browser.new_context()).new_page()
    await login_page.goto(product.url + "ivr")
    await expect(login_page.get_by_label("Identifiant", exact=True)).to_be_visible()
    assert await serious_violations(login_page) == []

    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector('body[data-loaded="1"]')
    await expect(version_row(page, 1)).to_contain_text("publiée")
    start = page.locator('#node-list button[data-node="bienvenue"]')
    await expect(start).to_contain_text("départ")
    await expect(start).to_have_attribute("aria-current", "true")
    editor = page.locator("#node-editor")
    await expect(editor.locator(".missing")).to_be_hidden()  # said by speech synthesis

    # The new greeting, and its recording: a file that is not a sound is refused first.
    await editor.get_by_label("Texte dit à l'appelant").fill(NEW_GREETING)
    upload = editor.get_by_label("Déposer un enregistrement")
    await upload.set_input_files(
        files={"name": "accueil.mp3", "mimeType": "audio/mpeg", "buffer": b"pas un son"}
    )
    await expect(page.locator("#alert")).to_contain_text(
        "« accueil.mp3 » refusé : ce n'est pas un fichier son lisible"
    )
    await expect(editor.get_by_label("Fichier enregistré")).to_have_value("")
    studio = subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-t", "wav", "-", "synth", "1", "sine", "440"],
        check=True,
        capture_output=True,
    ).stdout
    await upload.set_input_files(
        files={"name": "accueil.wav", "mimeType": "audio/wav", "buffer": studio}
    )
    await expect(page.locator("#status")).to_contain_text("« accueil.wav » déposé")
    recording = await editor.get_by_label("Fichier enregistré").input_value()
    assert recording.startswith("cti/")
    await expect(editor.locator(".missing")).to_be_hidden()
    await page.get_by_label("Commentaire de la version").fill("Nouvel accueil")
    await page.get_by_role("button", name="Publier", exact=True).click()
    await expect(confirmation(page)).to_contain_text(
        "Nœud « Message “Bonjour et bienvenue à la mairie.” » : message modifié, "
        "enregistrement du message changé"
    )
    await confirm(page, "Publier")
    await expect(page.locator("#status")).to_contain_text("Version 2 publiée")
    await expect(version_row(page, 2)).to_contain_text("publiée")
    await expect(version_row(page, 2)).to_contain_text("telecom")
    await expect(version_row(page, 2)).to_contain_text("Nouvel accueil")
    await expect(version_row(page, 1)).to_contain_text("archivée")

    call = await call_through_the_menu(product)
    assert call.heard[0] == recording

    # A menu choice that leads nowhere (links are chosen among the nodes in the form: only
    # the YAML can name one that does not exist): refused before anything is sent, naming
    # the menu by its words and the key.
    await edit_yaml(page, '"7": annonce_horaires', '"7": nulle_part')
    await page.locator('#node-list button[data-node="menu_principal"]').click()
    target = editor.locator('[data-path="nodes.menu_principal.choices.7"]')
    await expect(target).to_have_value("nulle_part")
    await page.get_by_role("button", name="Publier", exact=True).click()
    alert = page.locator("#alert")
    await expect(alert).to_contain_text("Publication refusée")
    await expect(alert).to_contain_text("Menu “Pour l'état civil, les actes de…”")
    await expect(alert).to_contain_text("touche 7")
    problem = page.locator("#problems li.problem", has_text="nulle_part")
    await expect(problem).to_contain_text("Touche 7")
    group = page.locator('#problems li.problem-group[data-node="menu_principal"]')
    await expect(group).to_contain_text("Nœud « Menu “Pour l'état civil, les actes de…” »")
    await expect(page.locator("#versions-table tbody tr")).to_have_count(2)

    # Saved as a draft, it is still refused, by the server this time.
    await page.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(page.locator("#status")).to_contain_text("version 3, invalide")
    await version_row(page, 3).get_by_role("button", name="Publier la version 3").click()
    await confirm(page, "Publier")
    await expect(alert).to_contain_text("Publication de la version 3 refusée")
    await expect(problem).to_contain_text("Touche 7")
    await expect(version_row(page, 2)).to_contain_text("publiée")
    await expect(version_row(page, 3)).to_contain_text("brouillon")
    # The problem leads to the field to fix.
    await page.locator('#node-list button[data-node="bienvenue"]').click()
    await problem.get_by_role("button").click()
    await expect(target).to_be_focused()
    await expect(target).to_have_attribute("aria-invalid", "true")
    await expect(page.locator('#node-list button[data-node="menu_principal"]')).to_contain_text(
        "erreur"
    )

    # Back to version 1: the next call hears the old greeting again (speech synthesis).
    await version_row(page, 1).get_by_role("button", name="Revenir à cette version").click()
    await expect(confirmation(page)).to_contain_text("Dès le prochain appel")
    await confirm(page, "Revenir à cette version")
    await expect(page.locator("#status")).to_contain_text("Version 1 publiée")
    await expect(version_row(page, 1)).to_contain_text("publiée")
    await expect(version_row(page, 2)).to_contain_text("archivée")
    call = await call_through_the_menu(product)
    assert product.ivr is not None and product.ivr.sounds is not None
    assert product.ivr.sounds.words(call.heard[0]) == OLD_GREETING

    # What changed between 1 and 2: in words, and line by line on demand.
    await page.get_by_label("Version de départ").select_option("1")
    await page.get_by_label("Version d'arrivée").select_option("2")
    await page.get_by_role("button", name="Comparer").click()
    await expect(page.locator("#diff-changes li")).to_have_text(
        [
            "Nœud « Message “Bonjour et bienvenue à la mairie.” » : message modifié, "
            "enregistrement du message changé"
        ]
    )
    await expect(page.locator("#diff")).to_be_hidden()
    await page.get_by_text("Voir le texte YAML modifié").click()
    await expect(page.locator("#diff .add", has_text=NEW_GREETING)).to_be_visible()
    await expect(page.locator("#diff .del", has_text=OLD_GREETING)).to_have_count(1)

    assert await serious_violations(page) == []


async def test_form_yaml_round_trip_and_simulation(product: Product, browser: Any) -> None:
    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector('body[data-loaded="1"]')
    editor = page.locator("#node-editor")

    # A node added, a menu choice added with the keyboard, then the node removed.
    # Named as staff say it; the id is made from the name (« Essai d'été » -> essai_d_ete).
    await page.get_by_label("Nom du nouveau nœud").fill("Essai d'été")
    await page.get_by_label("Type du nouveau nœud").select_option("hangup")
    await page.get_by_role("button", name="Ajouter le nœud").click()
    await expect(page.locator('#node-list button[data-node="essai_d_ete"]')).to_have_attribute(
        "aria-current", "true"
    )
    await expect(page.locator("#node-list")).to_contain_text("Essai d'été")
    await expect(editor.get_by_label("Libellé (pour l'éditeur)")).to_be_focused()
    await page.get_by_role("button", name="Supprimer ce nœud").click()
    await expect(confirmation(page)).to_contain_text("Aucun autre nœud n'y mène")
    await confirm(page, "Supprimer le nœud")
    await expect(page.locator('#node-list button[data-node="essai_d_ete"]')).to_have_count(0)
    await page.locator('#node-list button[data-node="apres_horaires"]').click()
    await editor.get_by_role("button", name="Ajouter un choix").click()
    await page.keyboard.type("0")
    await page.keyboard.press("Tab")
    await page.locator(":focus").select_option(
        label="Fin d'appel “Merci de votre appel. Au revoir.”"
    )

    await page.get_by_role("tab", name="YAML").click()
    yaml_text = page.get_by_label("Arbre au format YAML (édition avancée)")
    text = await yaml_text.input_value()
    assert "bienvenue:" in text and "Bonjour et bienvenue à la mairie." in text
    assert '"0": au_revoir' in text and "essai" not in text
    # ...and names a recording for the holiday announcement that nobody uploaded.
    holiday_line = re.search(r"^( *)holiday_announcement:\n", text, re.M)
    assert holiday_line is not None
    named = f"{holiday_line.group(1)}  file: mairie/jour-ferie\n"
    text = text[: holiday_line.end()] + named + text[holiday_line.end() :]
    await yaml_text.fill(text.replace("Bonjour et bienvenue", "Bonjour et bonne année"))
    await page.get_by_role("tab", name="Formulaire").click()
    await page.locator('#node-list button[data-node="bienvenue"]').click()
    await expect(editor.get_by_label("Texte dit à l'appelant")).to_have_value(
        "Bonjour et bonne année à la mairie."
    )

    # Calendars are edited in the YAML: their problems lead there, to the line.
    # A warning is folded away under the errors (there are none here): opened, it says where.
    await page.get_by_role("button", name="Vérifier").click()
    await expect(page.locator("#problems-summary")).to_have_text("Aucune erreur ; 1 avertissement.")
    holiday = page.locator("#warnings li.problem", has_text="enregistrement manquant")
    await expect(holiday).to_be_hidden()
    await page.get_by_text("1 avertissement (la publication reste possible)").click()
    group = page.locator("#warnings li.problem-group")
    await expect(group).to_contain_text("Horaires « mairie » : annonce des jours fériés")
    await holiday.get_by_role("button").click()
    await expect(page.get_by_role("tab", name="YAML")).to_have_attribute("aria-selected", "true")
    await expect(yaml_text).to_be_focused()
    selected = await yaml_text.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected.strip() == "file: mairie/jour-ferie"
    await page.get_by_role("tab", name="YAML").focus()
    await page.keyboard.press("ArrowLeft")  # the tabs follow the arrow keys
    await expect(page.get_by_role("tab", name="Formulaire")).to_be_focused()
    await expect(page.locator("#panel-form")).to_be_visible()

    await page.get_by_label("Touches tapées").fill(HOURS_KEYS)
    await page.get_by_label("Date de l'appel").fill("2026-11-24")
    await page.get_by_label("Heure de l'appel").fill("10:00")
    await page.get_by_role("button", name="Simuler").click()
    steps = page.locator("#sim-steps")
    await expect(steps).to_contain_text("Bonjour et bonne année à la mairie.")
    await expect(steps).to_contain_text("Horaires d'ouverture")
    await expect(page.locator("#sim-end")).to_contain_text("Fin de l'appel")
    assert await serious_violations(page) == []


async def test_a_reloaded_draft_is_what_the_editor_shows_and_publishes(
    product: Product, browser: Any
) -> None:
    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector('body[data-loaded="1"]')
    editor = page.locator("#node-editor")
    await editor.get_by_label("Texte dit à l'appelant").fill("Bonjour, ici la mairie.")
    await page.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(page.locator("#status")).to_contain_text("Brouillon enregistré")
    draft = await version_count(page, product)

    # Tomorrow, the same person comes back: the editor is on the draft, not on version 1.
    await page.reload()
    await page.wait_for_selector(f'body[data-loaded="{draft}"]')
    await expect(page.locator("#status")).to_contain_text(f"Brouillon n° {draft} rouvert")
    await expect(page.locator("#editing")).to_contain_text(f"Version {draft} (brouillon)")
    await expect(editor.get_by_label("Texte dit à l'appelant")).to_have_value(
        "Bonjour, ici la mairie."
    )
    await page.get_by_role("button", name="Publier", exact=True).click()
    await expect(confirmation(page)).to_contain_text(
        "Nœud « Message “Bonjour et bienvenue à la mairie.” » : message modifié"
    )
    await confirm(page, "Publier")
    # That very draft is published: no copy of the old text saved on the way.
    await expect(page.locator("#status")).to_contain_text(f"Version {draft} publiée")
    assert await version_count(page, product) == draft
    assert await published_version(page, product) == draft
    answer = await page.request.get(product.url + f"api/ivr/diff?from=1&to={draft}")
    assert (await answer.json())["changes"] != []
    await back_to_version_1(page, product)


async def test_nothing_that_callers_hear_changes_without_a_confirmation(
    product: Product, browser: Any
) -> None:
    page = await log_in(browser, product, "telecom", dialogs=True)
    await page.wait_for_selector('body[data-loaded="1"]')
    before = await version_count(page, product)

    # Deleting a node says which keys stop leading anywhere; « Annuler » keeps it.
    await page.locator('#node-list button[data-node="annonce_horaires"]').click()
    await page.get_by_role("button", name="Supprimer ce nœud").click()
    await expect(confirmation(page)).to_contain_text(
        "Dans « Menu “Pour l'état civil, les actes de…” », « Touche 7 » ne mènera plus nulle part."
    )
    assert await serious_violations(page) == []
    await confirm(page, "Annuler")
    await expect(page.locator('#node-list button[data-node="annonce_horaires"]')).to_have_count(1)
    await expect(page.get_by_role("button", name="Supprimer ce nœud")).to_be_focused()

    # Publishing says what callers will hear; « Annuler » publishes and saves nothing.
    await page.locator('#node-list button[data-node="bienvenue"]').click()
    await page.locator("#node-editor").get_by_label("Texte dit à l'appelant").fill("Allô ?")
    await page.get_by_role("button", name="Publier", exact=True).click()
    await expect(confirmation(page)).to_contain_text("Dès le prochain appel, pour les appelants")
    await confirm(page, "Annuler")
    await expect(page.locator("#status")).to_contain_text("Publication annulée")
    assert await version_count(page, product) == before
    assert await published_version(page, product) == 1

    # Leaving with unsaved work: the browser asks; once saved, it lets go.
    asked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    page.once("dialog", lambda d: asked.set_result(d))
    await page.close(run_before_unload=True)
    dialog = await asyncio.wait_for(asked, 10)
    assert dialog.type == "beforeunload"
    await dialog.dismiss()
    assert not page.is_closed()
    await page.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(page.locator("#status")).to_contain_text("Brouillon enregistré")
    page.on("dialog", lambda d: pytest.fail(f"asked again after saving: {d.type}"))
    closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    page.once("close", lambda p: closed.set_result(p))
    await page.close(run_before_unload=True)
    await asyncio.wait_for(closed, 10)
    # The draft left behind would reopen in the next tests: published then rolled back.
    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector(f'body[data-loaded="{before + 1}"]')
    await page.get_by_role("button", name="Publier", exact=True).click()
    await confirm(page, "Publier")
    await expect(page.locator("#status")).to_contain_text(f"Version {before + 1} publiée")
    await back_to_version_1(page, product)


async def test_links_are_chosen_among_named_nodes_and_the_plan_follows(
    product: Product, browser: Any
) -> None:
    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector('body[data-loaded="1"]')
    # The page names nodes as the server does (comparisons, problems), never by their ids.
    names = await page.evaluate("() => IvrNames.names(tree)")
    assert names == node_names(parse_tree(DEFAULT_TREE.read_text(encoding="utf-8")))
    listed = await page.locator("#node-list").inner_text()
    assert "menu_principal" not in listed and "Horaires d'ouverture" in listed

    await page.locator('#node-list button[data-node="apres_horaires"]').click()
    editor = page.locator("#node-editor")
    await editor.get_by_role("button", name="Ajouter un choix").click()
    await page.keyboard.type("5")
    choice = editor.get_by_label("Nœud du choix n° 2")
    options = await choice.locator("option").all_inner_texts()
    assert "Horaires d'ouverture" in options and "annonce_horaires" not in options
    await choice.select_option(label="Mise en relation : Accueil")

    plan = page.locator("#plan")
    branch = plan.locator("li", has_text="Touche 5 → Mise en relation : Accueil")
    await expect(branch.last).to_be_visible()
    await plan.locator('button[data-node="vers_accueil"]').first.click()
    await expect(page.locator('#node-list button[data-node="vers_accueil"]')).to_have_attribute(
        "aria-current", "true"
    )
    # A new label is the node's name everywhere at once.
    await editor.get_by_label("Libellé (pour l'éditeur)").fill("Standard")
    await expect(plan.locator('button[data-node="vers_accueil"]').first).to_contain_text("Standard")
    await page.locator('#node-list button[data-node="apres_horaires"]').click()
    await expect(editor.get_by_label("Nœud du choix n° 2")).to_contain_text("Standard")
    await page.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(page.locator("#status")).to_contain_text("Brouillon enregistré")
    draft = await version_count(page, product)
    answer = await page.request.get(product.url + f"api/ivr/diff?from=1&to={draft}")
    assert (await answer.json())["changes"] == [
        "Nœud « Mise en relation : Accueil » : libellé ajouté : « Standard »",
        "Nœud « Menu “Pour revenir au menu principal, tapez…” » : touche 5 ajoutée "
        "(vers « Standard »)",
    ]
    # Left published then rolled back, so that the next tests open version 1.
    await page.get_by_role("button", name="Publier", exact=True).click()
    await confirm(page, "Publier")
    await back_to_version_1(page, product)


async def test_one_typo_is_one_problem_everywhere_and_the_page_fits_a_phone(
    product: Product, browser: Any
) -> None:
    page = await log_in(browser, product, "telecom", width=390)
    await page.wait_for_selector('body[data-loaded="1"]')
    # The shipped menu: nothing to report, nothing to scroll sideways.
    await expect(page.locator("#problems-summary")).to_have_text("Aucun problème signalé.")
    width = "() => document.documentElement.scrollWidth"
    assert await page.evaluate(width) <= 390
    assert await serious_violations(page) == []

    await edit_yaml(page, "next: horaires_mairie", "next: horaires_mairi")
    await page.get_by_role("button", name="Vérifier").click()
    summary = page.locator("#problems-summary")
    await expect(summary).to_have_text("2 erreurs à corriger avant de publier.")
    await expect(page.locator("#problems li.problem")).to_have_count(2)
    await expect(page.locator("#problems li.problem").first).to_contain_text(
        "Nœud suivant : référence à un nœud inconnu « horaires_mairi » "
        "(vouliez-vous dire « horaires_mairie » ?)"
    )
    await page.get_by_role("button", name="Publier", exact=True).click()
    await expect(page.locator("#alert")).to_contain_text("Publication refusée : 2 erreur(s)")
    await expect(summary).to_have_text("2 erreurs à corriger avant de publier.")
    await expect(page.locator("#problems li.problem")).to_have_count(2)
    assert await page.evaluate(width) <= 390
    assert await serious_violations(page) == []

    await page.get_by_label("Version de départ").select_option("1")
    await page.get_by_label("Version d'arrivée").select_option("1")
    await page.get_by_role("button", name="Comparer").click()
    await expect(page.locator("#diff-summary")).to_have_text(
        "Aucune différence entre la version 1 et la version 1."
    )
    await expect(page.locator("#diff-raw")).to_be_hidden()
    assert await page.evaluate(width) <= 390
    assert await serious_violations(page) == []


async def test_the_measures_panel_shows_the_runs_recorded(product: Product, browser: Any) -> None:
    # Five callers hang up in the main menu (the first after letting it time out), one more
    # when asked for a case number; other tests' calls may add to what passed there.
    now = datetime.now(PARIS)
    entry = ("bienvenue", "horaires_mairie", "menu_principal")
    for i, path in enumerate([entry] * 5 + [(*entry, "suivi_dossier")]):
        run = MenuRun(
            at=now - timedelta(seconds=i + 1),
            uniqueid=f"mesure.{i}",
            call_id=None,
            path=path,
            outcome="caller_hung_up",
            last_node=path[-1],
            timed_out_nodes=("menu_principal",) if i == 0 else (),
            self_served=False,
        )
        await asyncio.to_thread(ivr_store.record_run, product.database, run)

    page = await log_in(browser, product, "telecom")
    await page.wait_for_selector('body[data-loaded="1"]')
    table = page.get_by_role("table", name="Appels par nœud du menu vocal, les 7 derniers jours")
    row = table.locator('tr[data-node="menu_principal"]')
    await expect(row).to_contain_text("élevé")
    answer = await page.request.get(product.url + "api/ivr/measures?days=7")
    main = next(n for n in (await answer.json())["nodes"] if n["node"] == "menu_principal")
    cells = await row.get_by_role("cell").all_inner_texts()
    assert cells[:4] == ["Menu à touches", str(main["passed"]), "5", "1"]
    assert main["passed"] >= 6 and main["hung_up"] == 5

    nodes = await table.locator("tbody tr th").all_inner_texts()
    # Named as the editor names them, never by their ids.
    menu = "Menu “Pour l'état civil, les actes de…”"
    assert nodes[0] == "Message “Bonjour et bienvenue à la mairie.”"
    assert nodes.index(menu) < nodes.index("Suivi de dossier")
    await page.get_by_label("Ordre des nœuds").select_option("passed")
    passed = [int(v) for v in await table.locator("tbody td:nth-child(3)").all_inner_texts()]
    assert passed == sorted(passed, reverse=True)

    days = page.get_by_role("table", name="Part des appels traités entièrement par le menu")
    await expect(days.locator("tbody tr")).to_have_count(7)
    await page.get_by_label("Période").select_option("1")
    await page.get_by_role("button", name="Afficher les mesures").click()
    await expect(days.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("#measures-summary")).to_contain_text("aujourd'hui")
    assert await serious_violations(page) == []


async def test_an_agent_is_refused(product: Product, browser: Any) -> None:
    page = await log_in(browser, product, "marie")
    await expect(page.locator("#alert")).to_contain_text("Accès refusé")
    await expect(page.locator("#workspace")).to_be_hidden()
    assert await serious_violations(page) == []


async def test_the_pages_yaml_reads_and_writes_trees_as_the_server_does(
    product: Product, browser: Any
) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(product.url + "ivr")
    text = DEFAULT_TREE.read_text(encoding="utf-8")
    tree = parse_tree(text)
    # The hand-written file (comments, folded text, flow lists) and the server's own YAML.
    for source in (text, dump_tree(tree)):
        read = await page.evaluate("t => IvrYaml.parseYaml(t)", source)
        assert read == json.loads(json.dumps(yaml.safe_load(source), default=str))
    # What the page writes, the server reads back as the same tree.
    document = json.loads(dump_tree_json(tree))
    written = await page.evaluate("t => IvrYaml.toYaml(t)", document)
    assert parse_tree(written) == tree
    odd: dict[str, Any] = {
        "a": "Ligne 1\nligne 2 : « x » # pas un commentaire",
        "1": "on",
        "*": None,
        "b": [],
    }
    assert await page.evaluate("o => IvrYaml.parseYaml(IvrYaml.toYaml(o))", odd) == odd
    assert yaml.safe_load(await page.evaluate("o => IvrYaml.toYaml(o)", odd)) == odd
