"""Menu tree format: versioned pydantic models, YAML/JSON text round trip, JSON Schema.

Theory of operation: a tree is plain data that telecom staff edit (YAML on disk, JSON in
the web editor and the database). ``format_version`` is 1. Nodes live in a mapping
``nodes: {id: node}``; each node has a ``kind`` (discriminated union) and refers to other
nodes by id. Reference checks, reachability and the like are the validator's job
(``ivr_scripts.validate``); this module only checks the *shape*, so that the editor can
save a half-finished tree and get every problem listed at once.

YAML is read through the composed node graph rather than ``yaml.safe_load`` so that
(a) duplicate mapping keys (e.g. the same DTMF key twice) are reported instead of silently
overwritten, (b) mapping keys keep their raw text (``1`` stays the string ``"1"``) and
(c) problems carry a line number. ``parse_tree(dump_tree(t)) == t`` for every tree.

The text comes from staff's browsers, so reading it is bounded before any work that grows
with it (``TreeLimits``): its size in bytes, the nesting depth, the number of nodes. YAML
aliases and anchors are refused outright: nine aliases on six levels ("billion laughs")
turn 398 bytes into half a billion items, and a menu has no use for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ivr_scripts.errors import Problem, TreeLoadError
from ivr_scripts.hours import Calendar
from ivr_scripts.prompt import Prompt
from ivr_scripts.tree_text import decode_tree_bytes, french_problem, refused_character

FORMAT_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("tree.schema.json")
DTMF_KEYS = frozenset("0123456789*#")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(default="", description="Libellé libre pour l'éditeur")


class MenuNode(_Node):
    """Say a prompt and wait for one DTMF key."""

    kind: Literal["menu"]
    prompt: Prompt
    choices: dict[str, str | None] = Field(
        default_factory=dict, description="Touche DTMF (0-9, *, #) vers identifiant de nœud"
    )
    timeout_s: int = Field(default=5, ge=1, le=60)
    max_retries: int = Field(default=2, ge=0, le=9, description="Nouvelles tentatives")
    invalid_prompt: Prompt | None = None
    default: str | None = Field(
        default=None, description="Nœud suivant quand les tentatives sont épuisées"
    )

    @field_validator("choices", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {("" if k is None else str(k)): v for k, v in value.items()}
        return value


class MessageNode(_Node):
    """Say a prompt, then go on."""

    kind: Literal["message"]
    prompt: Prompt
    next: str | None = None


class HoursCheckNode(_Node):
    """Branch on a calendar; when closed, optionally announce why (holiday, closure...)."""

    kind: Literal["hours_check"]
    calendar: str = Field(description="Nom d'un calendrier de la section calendars")
    open: str | None = None
    closed: str | None = None
    announce_closed: bool = Field(
        default=True, description="Annoncer la raison de la fermeture avant d'aller à closed"
    )


class CaseStatusNode(_Node):
    """Ask for a case reference (digits, ended by #), read back its status."""

    kind: Literal["case_status"]
    prompt: Prompt
    max_digits: int = Field(default=10, ge=1, le=20)
    timeout_s: int = Field(default=8, ge=1, le=60)
    max_retries: int = Field(default=1, ge=0, le=9)
    found_prompt: Prompt = Field(default=Prompt(text="Votre dossier numéro"))
    not_found_prompt: Prompt = Field(
        default=Prompt(text="Nous n'avons pas trouvé de dossier avec ce numéro.")
    )
    found: str | None = None
    not_found: str | None = None


class RouteNode(_Node):
    """Terminal: hand the call to a service (variables set, dialplan goes to cti-wait)."""

    kind: Literal["route"]
    service: str
    priority: int = Field(default=0, ge=0, le=9)
    language: str | None = Field(default=None, description="Langue de l'agent (fr, en...)")
    prompt: Prompt | None = None


class VoicemailNode(_Node):
    """Terminal: leave a voicemail message in a box."""

    kind: Literal["voicemail"]
    box: str = Field(description="Boîte vocale Asterisk, ex. 100@mairie")
    prompt: Prompt | None = None


class CallbackNode(_Node):
    """Terminal: the number to call back (the caller's, confirmed, or keyed), recorded with a
    topic for the service's agents, then the goodbye and hang up (``callback_dialog``)."""

    kind: Literal["callback"]
    topic: str
    service: str | None = Field(
        default=None, description="Service qui rappellera (par défaut : service de repli)"
    )
    window: Literal["ce_matin", "cet_apres_midi", "a_la_reouverture"] = Field(
        default="a_la_reouverture", description="Quand rappeler"
    )
    prompt: Prompt | None = Field(
        default=Prompt(text="Votre demande de rappel est enregistrée. Au revoir.")
    )


class TransferNode(_Node):
    """Terminal: transfer to an external number."""

    kind: Literal["transfer"]
    number: str
    prompt: Prompt | None = None


class HangupNode(_Node):
    """Terminal: optional goodbye, then hang up."""

    kind: Literal["hangup"]
    prompt: Prompt | None = None
    outcome: Literal["hung_up", "self_service"] = Field(
        default="hung_up", description="self_service : la demande a été traitée par le menu"
    )


Node = Annotated[
    MenuNode
    | MessageNode
    | HoursCheckNode
    | CaseStatusNode
    | RouteNode
    | VoicemailNode
    | CallbackNode
    | TransferNode
    | HangupNode,
    Field(discriminator="kind"),
]
NODE_KINDS = frozenset(
    {
        "menu",
        "message",
        "hours_check",
        "case_status",
        "route",
        "voicemail",
        "callback",
        "transfer",
        "hangup",
    }
)
TERMINAL_KINDS = frozenset({"route", "voicemail", "callback", "transfer", "hangup"})


class Tree(BaseModel):
    """A whole voice menu, as published for one town hall."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    name: str = ""
    start: str = Field(description="Identifiant du premier nœud")
    fallback_service: str = Field(
        default="accueil", description="Service utilisé si le menu tourne en rond"
    )
    services: dict[str, str] = Field(
        default_factory=dict, description="Libellé des services (identifiant vers nom affiché)"
    )
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    nodes: dict[str, Node]


def successors(node: Node) -> dict[str, str | None]:
    """Outgoing references of a node: field path (relative) -> target id (None if unset)."""
    if isinstance(node, MenuNode):
        out: dict[str, str | None] = {f"choices.{k}": v for k, v in node.choices.items()}
        out["default"] = node.default
        return out
    if isinstance(node, MessageNode):
        return {"next": node.next}
    if isinstance(node, HoursCheckNode):
        return {"open": node.open, "closed": node.closed}
    if isinstance(node, CaseStatusNode):
        return {"found": node.found, "not_found": node.not_found}
    return {}


def tree_json_schema() -> dict[str, Any]:
    """JSON Schema of the tree format (also published as ``tree.schema.json``)."""
    schema = Tree.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Menu vocal de mairie (format_version 1)"
    return schema


def write_schema_file(path: Path = SCHEMA_FILE) -> None:
    """Regenerate ``tree.schema.json`` (``python -m ivr_scripts.tree``)."""
    path.write_text(
        json.dumps(tree_json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def dump_tree(tree: Tree) -> str:
    """YAML text of a tree; ``parse_tree`` gives the same tree back."""
    data = tree.model_dump(mode="json", exclude_none=True)
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return text


def dump_tree_json(tree: Tree) -> str:
    """JSON text of a tree (JSON is YAML, so ``parse_tree`` reads it too)."""
    return tree.model_dump_json(exclude_none=True, indent=2)


@dataclass(frozen=True, slots=True)
class TreeLimits:
    """How much text a tree may be: far above any town hall's menu (a few hundred nodes at
    most), far below what would hold the product up."""

    max_bytes: int = 512 * 1024
    max_nodes: int = 1000
    max_depth: int = 40  # the format nests 6 levels deep (calendars' closures' prompts)


DEFAULT_LIMITS = TreeLimits()


class _Refused(yaml.YAMLError):  # type: ignore[misc]
    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader, refusing aliases, anchors and nesting past ``max_depth``."""

    max_depth = 40
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                f"les alias YAML (*{event.anchor}) ne sont pas acceptés : "
                "écrivez chaque valeur en entier",
                event.start_mark,
            )
        if getattr(event, "anchor", None):
            raise _Refused(
                f"les ancres YAML (&{event.anchor}) ne sont pas acceptées : "
                "écrivez chaque valeur en entier",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):  # !!python/object, !!timestamp...: a menu is plain text
            tag = tag.replace("tag:yaml.org,2002:", "!!")  # as the technician wrote it
            raise _Refused(
                f"les étiquettes YAML ({tag}) ne sont pas acceptées : "
                "écrivez la valeur telle quelle",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise _Refused(
                    f"imbrication trop profonde (plus de {self.max_depth} niveaux)",
                    event.start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_tree_problems(
    text: str, limits: TreeLimits = DEFAULT_LIMITS
) -> tuple[Tree | None, list[Problem]]:
    """Parse YAML or JSON text; return the tree (if its shape is right) and the problems."""
    problems: list[Problem] = []
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        return None, [_too_big(size, limits)]
    try:
        # The reader checks every character when it is built: NUL, controls, lone surrogates.
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:
        message = refused_character(text, exc.position, chr(exc.character))
        return None, [Problem("error", "yaml", f"YAML illisible : {message}")]
    loader.max_depth = limits.max_depth
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, yaml.reader.ReaderError):  # met while reading, e.g. by a stream
            problem = refused_character(text, exc.position, chr(exc.character))
        elif not isinstance(exc, _Refused):
            problem = french_problem(problem)
        return None, [Problem("error", "yaml", f"YAML illisible{where} : {problem}")]
    finally:
        loader.dispose()
    if root is None:
        return None, [Problem("error", "", "le fichier est vide")]
    data = _to_python(root, [], problems, loader)
    return _shaped(data, problems, limits)


def parse_tree_data(
    data: Any, limits: TreeLimits = DEFAULT_LIMITS
) -> tuple[Tree | None, list[Problem]]:
    """A tree already decoded from JSON (the editor's object); same checks as the text."""
    size = len(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        return None, [_too_big(size, limits)]
    return _shaped(data, [], limits)


def _too_big(size: int, limits: TreeLimits) -> Problem:
    return Problem(
        "error", "", f"menu trop volumineux : {size} octets (limite : {limits.max_bytes} octets)"
    )


def _shaped(
    data: Any, problems: list[Problem], limits: TreeLimits
) -> tuple[Tree | None, list[Problem]]:
    if not isinstance(data, dict):
        problems.append(Problem("error", "", "le fichier doit contenir un dictionnaire"))
        return None, problems
    nodes = data.get("nodes")
    if isinstance(nodes, dict) and len(nodes) > limits.max_nodes:
        message = f"menu trop grand : {len(nodes)} nœuds (limite : {limits.max_nodes} nœuds)"
        return None, [*problems, Problem("error", "nodes", message)]
    try:
        tree = Tree.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc))
        return None, problems
    return tree, problems


def parse_tree(text: str, source: str = "<texte>") -> Tree:
    """Parse a tree's text; raise ``TreeLoadError`` listing every shape problem."""
    tree, problems = parse_tree_problems(text)
    if tree is None or any(p.severity == "error" for p in problems):
        raise TreeLoadError(source, problems)
    return tree


_PYDANTIC_FR: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "union_tag_invalid": "type de nœud (kind) inconnu",
    "union_tag_not_found": "le champ kind est obligatoire",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "bool_type": "oui/non attendu",
    "bool_parsing": "oui/non attendu",
    "dict_type": "dictionnaire attendu",
    "list_type": "liste attendue",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "literal_error": "valeur non autorisée",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "model_type": "dictionnaire attendu",
}


def pydantic_problems(exc: ValidationError) -> list[Problem]:
    """Convert pydantic errors into Problems with tree paths and French messages."""
    out: list[Problem] = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        if len(loc) >= 3 and loc[0] == "nodes" and loc[2] in NODE_KINDS:
            del loc[2]
        message = _PYDANTIC_FR.get(err["type"], f"valeur invalide ({err['msg']})")
        if err["type"] == "literal_error" and loc == ["format_version"]:
            message = f"version de format non prise en charge (attendu {FORMAT_VERSION})"
        out.append(Problem("error", ".".join(loc), message))
    return out


def _to_python(
    node: yaml.Node, path: list[str], problems: list[Problem], loader: yaml.SafeLoader
) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            here = [*path, key]
            if key in out:
                problems.append(
                    Problem(
                        "error",
                        ".".join(here),
                        f"clé en double (ligne {key_node.start_mark.line + 1})",
                    )
                )
                continue
            out[key] = _to_python(value_node, here, problems, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, [*path, str(i)], problems, loader) for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError):
        # An untagged value that looks like a date or a number but is none (2026-13-45).
        where = f"ligne {node.start_mark.line + 1}, colonne {node.start_mark.column + 1}"
        message = f"valeur illisible « {str(node.value)[:60]} » ({where})"
        problems.append(Problem("error", ".".join(path), message))
        return None


def load_tree_text(path: Path) -> str:
    """A tree file's text (UTF-8, or the encoding its byte order mark names).

    Raises ``TreeLoadError`` when the file cannot be read or is not text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = Problem("error", "", f"fichier illisible : {exc.strerror or exc}")
        raise TreeLoadError(str(path), [problem]) from exc
    text, problems = decode_tree_bytes(raw)
    if text is None:
        raise TreeLoadError(str(path), problems)
    return text


if __name__ == "__main__":
    write_schema_file()
