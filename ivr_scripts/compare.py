"""What changed between two versions of a voice menu, in French, node by node (pure).

The unified diff of the YAML (``ivr_scripts.diff``) is exact but reads like code; telecom
staff ask « what changes for callers? ». ``compare`` answers with one sentence per menu
setting, calendar or node that changed, nodes named as the editor names them
(``ivr_scripts.node_names``): « Nœud « Horaires d'ouverture » : message modifié »,
« Nœud « Menu principal » : touche 3 ajoutée (vers « Écoles ») ». Nodes are matched by
their id, so a node whose id changed reads as one removed and one added. Identical trees
give an empty list.
"""

from __future__ import annotations

from typing import Any

from ivr_scripts.hours import WEEKDAY_NAMES_FR, Calendar
from ivr_scripts.node_names import KIND_NAMES, node_names
from ivr_scripts.prompt import Prompt
from ivr_scripts.tree import Node, Tree, successors

# The words of the editor's form, lower case, for each field of a node.
FIELD_WORDS = {
    "label": "libellé",
    "prompt": "message",
    "invalid_prompt": "message en cas de choix invalide",
    "found_prompt": "message quand le dossier est trouvé",
    "not_found_prompt": "message quand le dossier est introuvable",
    "next": "nœud suivant",
    "default": "nœud quand les tentatives sont épuisées",
    "open": "nœud si ouvert",
    "closed": "nœud si fermé",
    "found": "nœud si le dossier est trouvé",
    "not_found": "nœud si le dossier est introuvable",
    "timeout_s": "délai pour taper une touche (s)",
    "max_retries": "nouvelles tentatives",
    "calendar": "calendrier",
    "announce_closed": "annonce de la raison de la fermeture",
    "max_digits": "nombre maximal de chiffres",
    "service": "service",
    "priority": "priorité",
    "language": "langue",
    "box": "boîte vocale",
    "topic": "objet du rappel",
    "number": "numéro",
    "outcome": "issue de l'appel",
}
OUTCOME_WORDS = {"hung_up": "appel terminé", "self_service": "demande traitée par le menu"}
DAY_WORDS = WEEKDAY_NAMES_FR
CALENDAR_WORDS = {
    "timezone": "fuseau horaire modifié",
    "public_holidays": "fermeture les jours fériés modifiée",
    "holiday_subdivision": "jours fériés locaux (Alsace-Moselle) modifiés",
    "closures": "fermetures exceptionnelles modifiées",
    "special_openings": "ouvertures exceptionnelles modifiées",
    "closed_announcement": "annonce hors horaires modifiée",
    "holiday_announcement": "annonce des jours fériés modifiée",
}


def compare(old: Tree, new: Tree) -> list[str]:
    """One French sentence per change from ``old`` to ``new``; [] when they are the same."""
    old_names, new_names = node_names(old), node_names(new)
    out = _menu_changes(old, new, old_names, new_names)
    for name in new.calendars.keys() - old.calendars.keys():
        out.append(f"Horaires « {name} » ajoutés")
    for name in old.calendars.keys() - new.calendars.keys():
        out.append(f"Horaires « {name} » supprimés")
    for name, calendar in new.calendars.items():
        if name in old.calendars and old.calendars[name] != calendar:
            details = _calendar_changes(old.calendars[name], calendar)
            out.append(f"Horaires « {name} » : {', '.join(details)}")
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is None:
            kind = KIND_NAMES.get(node.kind, node.kind)
            out.append(f"Nœud « {new_names[node_id]} » ajouté ({kind.lower()})")
        elif before != node:
            details = _node_changes(before, node, old_names, new_names)
            # Named as it was: a new greeting would otherwise rename its own node.
            out.append(f"Nœud « {old_names[node_id]} » : {', '.join(details)}")
    for node_id in old.nodes.keys() - new.nodes.keys():
        out.append(f"Nœud « {old_names[node_id]} » supprimé")
    return out


def _target(names: dict[str, str], target: str | None) -> str:
    if target is None:
        return "aucun"
    return f"« {names.get(target, target)} »"


def _menu_changes(
    old: Tree, new: Tree, old_names: dict[str, str], new_names: dict[str, str]
) -> list[str]:
    out: list[str] = []
    if old.name != new.name:
        out.append(f"Nom du menu : « {old.name} » → « {new.name} »")
    if old.start != new.start:
        out.append(
            f"Premier nœud de l'appel : {_target(old_names, old.start)} → "
            f"{_target(new_names, new.start)}"
        )
    if old.fallback_service != new.fallback_service:
        out.append(f"Service de repli : {old.fallback_service} → {new.fallback_service}")
    if old.services != new.services:
        out.append("Noms des services modifiés")
    return out


def _calendar_changes(old: Calendar, new: Calendar) -> list[str]:
    days = [
        word
        for day, word in DAY_WORDS.items()
        if getattr(old.weekly, day) != getattr(new.weekly, day)
    ]
    out = [f"horaires de la semaine modifiés ({', '.join(days)})"] if days else []
    for field, words in CALENDAR_WORDS.items():
        if getattr(old, field) != getattr(new, field):
            out.append(words)
    return out


def _value(field: str, value: Any) -> str:
    if value is None:
        return "par défaut"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if field == "outcome":
        return OUTCOME_WORDS.get(str(value), str(value))
    if field == "kind":
        return KIND_NAMES.get(str(value), str(value)).lower()
    return str(value)


def _prompt_change(word: str, old: Prompt | None, new: Prompt | None) -> list[str]:
    if old is None:
        return [f"{word} ajouté"]
    if new is None:
        return [f"{word} retiré"]
    out = []
    if old.text != new.text:
        out.append(f"{word} modifié")
    if old.file != new.file:
        out.append(f"enregistrement du {word} {'retiré' if new.file is None else 'changé'}")
    return out


def _label_change(old: str, new: str) -> str:
    if not old:
        return f"libellé ajouté : « {new} »"
    if not new:
        return "libellé retiré"
    return f"libellé : « {old} » → « {new} »"


def _node_changes(
    old: Node, new: Node, old_names: dict[str, str], new_names: dict[str, str]
) -> list[str]:
    if old.kind != new.kind:
        return [f"type : {_value('kind', old.kind)} → {_value('kind', new.kind)}"]
    out: list[str] = []
    old_links, new_links = successors(old), successors(new)
    old_keys = {k.removeprefix("choices."): t for k, t in old_links.items() if "." in k}
    new_keys = {k.removeprefix("choices."): t for k, t in new_links.items() if "." in k}
    for key, target in new_keys.items():
        if key not in old_keys:
            out.append(f"touche {key} ajoutée (vers {_target(new_names, target)})")
        elif old_keys[key] != target:
            out.append(
                f"touche {key} : {_target(old_names, old_keys[key])} → {_target(new_names, target)}"
            )
    out += [f"touche {key} retirée" for key in old_keys if key not in new_keys]
    before, after = dict(old), dict(new)
    for field, word in FIELD_WORDS.items():
        if field not in before or before[field] == after[field]:
            continue
        if isinstance(before[field], Prompt) or isinstance(after[field], Prompt):
            out += _prompt_change(word, before[field], after[field])
        elif field in old_links:
            out.append(
                f"{word} : {_target(old_names, before[field])} → {_target(new_names, after[field])}"
            )
        elif field == "label":
            out.append(_label_change(before[field], after[field]))
        else:
            out.append(f"{word} : {_value(field, before[field])} → {_value(field, after[field])}")
    return out or ["réglages modifiés"]
