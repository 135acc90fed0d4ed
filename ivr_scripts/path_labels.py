"""A call's way through the voice menu, in the words of the caller's choices.

The interpreter records the ids of the nodes a call went through (``bienvenue``,
``horaires_mairie``, ``menu_principal``, ``vers_etat_civil``): the telecom staff's names,
not what the agent should read. ``menu_path_labels`` turns them into what the caller did:
``["Horaires d'ouverture", "État civil"]``.

Pure: the published tree and the path in, labels out. Rules, node by node:

* a node with a ``label`` (the editor's free label) is named by it;
* without one, a node says something only when its kind does: a route names its service
  (the tree's label, else the routing's, else the service as written), a case-status step
  is « Suivi de dossier », a voicemail, a callback request or an outside transfer say so,
  an hours check that found the service closed says « En dehors des heures d'ouverture »;
  greetings, menus and hang-ups the caller only heard say nothing;
* the interpreter's guard (a caller who looped) is the fallback service;
* a node no longer in the tree (it changed since the call) is left out: never an id;
* the same label twice in a row (back to the main menu, the same choice again) shows once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ivr_scripts.interpreter import GUARD_NODE
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

CASE_STATUS = "Suivi de dossier"
VOICEMAIL = "Message vocal"
CALLBACK = "Demande de rappel"
TRANSFER = "Transfert vers l'extérieur"
CLOSED = "En dehors des heures d'ouverture"


def service_label(tree: Tree, service: str, labels: Mapping[str, str] | None = None) -> str:
    """A service as people name it: the tree's label, else the routing's, else as written."""
    return tree.services.get(service) or (labels or {}).get(service) or service


def _label(
    tree: Tree, node: Node, next_id: str | None, labels: Mapping[str, str] | None
) -> str | None:
    if node.label.strip():
        return node.label.strip()
    if isinstance(node, RouteNode):
        return service_label(tree, node.service, labels)
    if isinstance(node, CaseStatusNode):
        return CASE_STATUS
    if isinstance(node, VoicemailNode):
        return VOICEMAIL
    if isinstance(node, CallbackNode):
        return CALLBACK
    if isinstance(node, TransferNode):
        return TRANSFER
    if isinstance(node, HoursCheckNode) and next_id is not None and next_id == node.closed:
        return CLOSED
    return None


def menu_path_labels(
    tree: Tree, path: Sequence[str], service_labels: Mapping[str, str] | None = None
) -> list[str]:
    """What the caller chose along ``path`` (node ids, as the interpreter recorded them).

    ``service_labels`` names services the tree does not (the routing configuration's).
    """
    out: list[str] = []
    for index, node_id in enumerate(path):
        following = path[index + 1] if index + 1 < len(path) else None
        if node_id == GUARD_NODE:
            label: str | None = service_label(tree, tree.fallback_service, service_labels)
        else:
            node = tree.nodes.get(node_id)
            label = _label(tree, node, following, service_labels) if node is not None else None
        if label and (not out or out[-1] != label):
            out.append(label)
    return out
