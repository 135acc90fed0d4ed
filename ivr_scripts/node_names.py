"""Nodes as the telecom staff name them in the editor, never by their ids (pure).

The editor's form, its drawing of the tree, its problems and the comparison of two versions
all say « Message « Bonjour et bienvenue à la mairie. » » rather than ``bienvenue``. Rules:

* a node with a ``label`` is named by it;
* without one, by its kind and what it does: a route by its service (the tree's label of
  the service, else its id), an hours check by its calendar, a voicemail by its box, a
  callback by its topic, a transfer by its number, a menu, a message or a hang-up by the
  first words of what it says (between “ ”: the names are quoted with « » in sentences);
* two nodes with the same name are told apart by « (2) », « (3) » in the menu's order.

The editor page (``cti/web/static/ivr_names.js``) applies the same rules to the tree being
edited; a browser test checks that both give the same names for the shipped menu.
"""

from __future__ import annotations

from ivr_scripts.prompt import Prompt
from ivr_scripts.tree import (
    CallbackNode,
    CaseStatusNode,
    HoursCheckNode,
    Node,
    RouteNode,
    TransferNode,
    Tree,
    VoicemailNode,
)

KIND_NAMES = {
    "menu": "Menu à touches",
    "message": "Message",
    "hours_check": "Contrôle des horaires",
    "case_status": "Suivi de dossier",
    "route": "Mise en relation",
    "voicemail": "Messagerie vocale",
    "callback": "Demande de rappel",
    "transfer": "Transfert externe",
    "hangup": "Fin d'appel",
}
SHORT_KINDS = {"menu": "Menu"}
SNIPPET_WORDS = 6


def snippet(text: str) -> str:
    """The first words of a prompt, « … » when there are more."""
    words = text.split()
    if len(words) <= SNIPPET_WORDS:
        return " ".join(words)
    return " ".join(words[:SNIPPET_WORDS]).rstrip(",;:") + "…"


def _base_name(tree: Tree, node: Node) -> str:
    if node.label.strip():
        return node.label.strip()
    kind = KIND_NAMES.get(node.kind, node.kind)
    if isinstance(node, RouteNode):
        return f"{kind} : {tree.services.get(node.service) or node.service}"
    if isinstance(node, HoursCheckNode):
        return f"Horaires : {node.calendar}"
    if isinstance(node, CaseStatusNode):
        return kind
    if isinstance(node, VoicemailNode):
        return f"{kind} {node.box}"
    if isinstance(node, CallbackNode):
        return f"{kind} : {node.topic}"
    if isinstance(node, TransferNode):
        return f"Transfert vers {node.number}"
    prompt = getattr(node, "prompt", None)
    if isinstance(prompt, Prompt) and prompt.text.strip():
        return f"{SHORT_KINDS.get(node.kind, kind)} “{snippet(prompt.text)}”"
    return kind


def node_names(tree: Tree) -> dict[str, str]:
    """Every node's name (id -> name), unique within the tree."""
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    for node_id, node in tree.nodes.items():
        name = _base_name(tree, node)
        seen[name] = seen.get(name, 0) + 1
        names[node_id] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return names
