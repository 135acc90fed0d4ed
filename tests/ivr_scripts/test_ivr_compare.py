"""Two versions compared node by node, in French, nodes named as the editor names them."""

from __future__ import annotations

from pathlib import Path

from ivr_scripts.compare import compare
from ivr_scripts.node_names import node_names
from ivr_scripts.tree import parse_tree

DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
TEXT = DEFAULT_TREE.read_text(encoding="utf-8")


def test_identical_versions_have_no_change() -> None:
    assert compare(parse_tree(TEXT), parse_tree(TEXT)) == []


def test_each_change_is_one_sentence_per_node_in_the_staffs_words() -> None:
    edited = (
        TEXT.replace('"3": vers_ecoles', '"3": vers_ecoles\n      "8": annonce_horaires')
        .replace('      "4": vers_ccas\n', "")
        .replace(
            '"9": vers_accueil\n    timeout_s: 5\n    max_retries: 2',
            '"9": vers_accueil\n    timeout_s: 7\n    max_retries: 2',
        )
        .replace("label: Horaires d'ouverture", "label: Horaires")
        .replace(
            "Le service urbanisme\n        reçoit sur rendez-vous.", "Urbanisme sur rendez-vous."
        )
        .replace('      sat: ["09:00-12:00"]\n    public', "    public")
        .replace(
            "  merci_horaires:\n    kind: hangup",
            "  merci_horaires:\n    kind: hangup\n    label: Au revoir",
        )
    )
    changes = compare(parse_tree(TEXT), parse_tree(edited))
    assert changes == [
        "Horaires « mairie » : horaires de la semaine modifiés (samedi)",
        "Nœud « Menu “Pour l'état civil, les actes de…” » : touche 8 ajoutée "
        "(vers « Horaires »), touche 4 retirée, délai pour taper une touche (s) : 5 → 7",
        "Nœud « Horaires d'ouverture » : libellé : « Horaires d'ouverture » → « Horaires », "
        "message modifié",
        "Nœud « Fin d'appel “Merci de votre appel. Au revoir.” (3) » : "
        "libellé ajouté : « Au revoir »",
    ]


def test_nodes_added_and_removed_and_links_moved() -> None:
    old = parse_tree(TEXT)
    new_text = TEXT.replace("next: apres_horaires", "next: merci_horaires").replace(
        "  apres_horaires:\n",
        "  info_travaux:\n    kind: message\n    prompt:\n"
        "      text: La mairie est en travaux.\n    next: merci_horaires\n  apres_horaires:\n",
    )
    changes = compare(old, parse_tree(new_text))
    assert changes == [
        "Nœud « Horaires d'ouverture » : nœud suivant : "
        "« Menu “Pour revenir au menu principal, tapez…” » → "
        "« Fin d'appel “Merci de votre appel. Au revoir.” (3) »",
        "Nœud « Message “La mairie est en travaux.” » ajouté (message)",
    ]


def test_names_are_unique_and_never_ids() -> None:
    names = node_names(parse_tree(TEXT))
    assert len(set(names.values())) == len(names)
    assert names["bienvenue"] == "Message “Bonjour et bienvenue à la mairie.”"
    assert names["vers_etat_civil"] == "Mise en relation : État civil"
    assert names["annonce_horaires"] == "Horaires d'ouverture"
    assert names["vers_accueil_dossier"] == "Mise en relation : Accueil (2)"
    assert not set(names.values()) & set(names)
