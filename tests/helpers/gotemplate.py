"""A small renderer for the subset of Helm's Go templates that infra/helm/openlv uses, so the chart's manifests can be
rendered and validated where no `helm` binary can be installed (none is packaged for Debian or PyPI).

Supported, with Go's semantics: text with `{{ }}` actions and `{{-` / `-}}` trimming, comments, fields (`.Values.a.b`,
`$.Release.Name`, `$var.field`), variables (`$x :=`, `$x =`), pipelines and parenthesised calls, `if` / `else if` / `else`,
`range` (lists and maps, sorted keys, optional `$i, $v :=`), `with`, `define` / `include`, and the functions in
`FUNCTIONS`. Anything else raises `TemplateError`, so a chart change that leaves the subset fails the tests instead
of rendering wrongly. infra/helm/openlv/README.md lists the subset for whoever edits the chart.
"""

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    pass


# ---- lexing -----------------------------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<punct>[|(),])
  | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    source = source.strip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match or match.end() == position:
            raise TemplateError(f"cannot read {source[position:]!r} in {{{{ {source} }}}}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# ---- parsing ----------------------------------------------------------------------------------------------------


@dataclass
class Node:
    kind: str  # text, action, if, range, with
    text: str = ""
    tokens: list[tuple[str, str]] = field(default_factory=list)
    body: list["Node"] = field(default_factory=list)
    otherwise: list["Node"] = field(default_factory=list)


def _split(source: str) -> list[tuple[str, str]]:
    """The template as ("text", s) and ("action", s) parts, with Go's whitespace trimming applied."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _ACTION.finditer(source):
        text = source[position : match.start()]
        if match.group(1):
            text = text.rstrip()
        parts.append(("text", text))
        parts.append(("action", match.group(2).strip()))
        position = match.end()
        if match.group(3):
            rest = source[position:]
            position += len(rest) - len(rest.lstrip())
    parts.append(("text", source[position:]))
    return [part for part in parts if part != ("text", "")]


def parse(source: str) -> tuple[list[Node], dict[str, list[Node]]]:
    """The template's nodes and the templates it defines."""
    defines: dict[str, list[Node]] = {}
    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node], str]] = [(None, root, "root")]
    for kind, value in _split(source):
        _, current, _ = stack[-1]
        if kind == "text":
            current.append(Node("text", text=value))
            continue
        if value.startswith("/*"):
            continue
        word, _, rest = value.partition(" ")
        if word in {"if", "range", "with"}:
            node = Node(word, tokens=_tokens(rest))
            current.append(node)
            stack.append((node, node.body, word))
        elif word == "define":
            name = json.loads(rest.strip())
            defines[name] = []
            stack.append((None, defines[name], "define"))
        elif word == "else":
            node, _, opened = stack.pop()
            if node is None:
                raise TemplateError("{{ else }} outside if/range/with")
            if rest.startswith("if "):  # else if: an if in the else branch, closed by the same {{ end }}
                nested = Node("if", tokens=_tokens(rest[3:]))
                node.otherwise.append(nested)
                stack.append((nested, nested.body, "if"))
            else:
                stack.append((node, node.otherwise, opened))
        elif word == "end":
            if len(stack) == 1:
                raise TemplateError("{{ end }} without a block")
            stack.pop()
        else:
            current.append(Node("action", tokens=_tokens(value)))
    if len(stack) != 1:
        raise TemplateError("a block is not closed with {{ end }}")
    return root, defines


# ---- evaluation -------------------------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, dict | list) and not value)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        raise TemplateError(f"a map or list printed as text ({value!r}); pipe it through toYaml")
    return str(value)


def _to_yaml(value: Any) -> str:
    return "" if value is None else yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(width: int, text: str) -> str:
    return "\n".join(" " * width + line if line else line for line in text.split("\n"))


def _required(message: str, value: Any) -> Any:
    if value is None or value == "":
        raise TemplateError(message)
    return value


def _printf(pattern: str, *args: Any) -> str:
    return re.sub(r"%[sdv]", "%s", pattern) % tuple(to_text(arg) for arg in args)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "nindent": lambda width, text: "\n" + _indent(int(width), text),
    "indent": lambda width, text: _indent(int(width), text),
    "quote": lambda *values: " ".join(json.dumps(to_text(value)) for value in values),
    "default": lambda fallback, value=None: value if truthy(value) else fallback,
    "required": _required,
    "b64enc": lambda text: base64.b64encode(to_text(text).encode()).decode(),
    "printf": _printf,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "not": lambda value: not truthy(value),
    "and": lambda *values: next((v for v in values if not truthy(v)), values[-1]),
    "or": lambda *values: next((v for v in values if truthy(v)), values[-1]),
    "toString": to_text,
}


class Renderer:
    def __init__(self, defines: dict[str, list[Node]]) -> None:
        self.defines = defines

    def render(self, nodes: list[Node], dot: Any, variables: dict[str, Any]) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                value = self.pipeline(node.tokens, dot, variables)
                if not (len(node.tokens) > 1 and node.tokens[1][0] in {"declare", "assign"}):
                    out.append(to_text(value))
            elif node.kind == "if":
                chosen = node.body if truthy(self.pipeline(node.tokens, dot, variables)) else node.otherwise
                out.append(self.render(chosen, dot, variables))
            elif node.kind == "with":
                value = self.pipeline(node.tokens, dot, variables)
                out.append(
                    self.render(node.body, value, variables)
                    if truthy(value)
                    else self.render(node.otherwise, dot, variables)
                )
            else:
                out.append(self.range(node, dot, variables))
        return "".join(out)

    def range(self, node: Node, dot: Any, variables: dict[str, Any]) -> str:
        tokens, names = node.tokens, []
        if ("declare", ":=") in tokens:
            split = tokens.index(("declare", ":="))
            names = [value for kind, value in tokens[:split] if kind == "variable"]
            tokens = tokens[split + 1 :]
        items = self.pipeline(tokens, dot, variables)
        pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items or []))
        if not pairs:
            return self.render(node.otherwise, dot, variables)
        out = []
        for key, value in pairs:
            scope = dict(variables)
            if len(names) == 1:
                scope[names[0]] = value
            elif len(names) == 2:
                scope[names[0]], scope[names[1]] = key, value
            out.append(self.render(node.body, value, scope))
        return "".join(out)

    def pipeline(self, tokens: list[tuple[str, str]], dot: Any, variables: dict[str, Any]) -> Any:
        if len(tokens) > 2 and tokens[0][0] == "variable" and tokens[1][0] in {"declare", "assign"}:
            if tokens[1][0] == "assign" and tokens[0][1] not in variables:
                raise TemplateError(f"assignment to undeclared {tokens[0][1]}")
            variables[tokens[0][1]] = self.pipeline(tokens[2:], dot, variables)
            return None
        commands: list[list[tuple[str, str]]] = [[]]
        depth = 0
        for token in tokens:
            if token == ("punct", "|") and depth == 0:
                commands.append([])
                continue
            depth += {"(": 1, ")": -1}.get(token[1], 0) if token[0] == "punct" else 0
            commands[-1].append(token)
        value: Any = _NOTHING
        for command in commands:
            value = self.command(command, dot, variables, value)
        return value

    def command(self, tokens: list[tuple[str, str]], dot: Any, variables: dict[str, Any], piped: Any) -> Any:
        operands = self.operands(tokens, dot, variables)
        head_kind, head = tokens[0]
        if head_kind == "ident" and head not in {"true", "false", "nil"}:
            args = operands[1:] + ([] if piped is _NOTHING else [piped])
            if head == "include":
                name, data = args
                return self.render(self.defines[name], data, {"$": data})
            if head not in FUNCTIONS:
                raise TemplateError(f"function {head!r} is outside the supported subset")
            return FUNCTIONS[head](*args)
        if len(operands) != 1 or piped is not _NOTHING:
            raise TemplateError(f"cannot call a non-function: {tokens}")
        return operands[0]

    def operands(self, tokens: list[tuple[str, str]], dot: Any, variables: dict[str, Any]) -> list[Any]:
        values: list[Any] = []
        index = 0
        while index < len(tokens):
            kind, text = tokens[index]
            if (kind, text) == ("punct", "("):
                depth, end = 1, index + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(tokens[end][1], 0) if tokens[end][0] == "punct" else 0
                    end += 1
                values.append(self.pipeline(tokens[index + 1 : end - 1], dot, variables))
                index = end
                continue
            values.append(self.operand(kind, text, dot, variables))
            index += 1
        return values

    def operand(self, kind: str, text: str, dot: Any, variables: dict[str, Any]) -> Any:
        if kind == "string":
            return text[1:-1] if text.startswith("`") else json.loads(text)
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "field":
            return _lookup(dot, text.strip(".").split(".") if text != "." else [])
        if kind == "variable":
            name, *path = text.split(".")
            if name not in variables:
                raise TemplateError(f"undefined variable {name}")
            return _lookup(variables[name], path)
        if kind == "ident":
            return {"true": True, "false": False, "nil": None}.get(text, text)
        raise TemplateError(f"unexpected {text!r}")


_NOTHING = object()


def _lookup(value: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# ---- Helm's view of a chart -------------------------------------------------------------------------------------


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render_chart(
    chart_dir: Path, value_files: list[Path] = (), overrides: dict[str, Any] | None = None, release: str = "openlv"
) -> list[dict[str, Any]]:
    """The manifests `helm template <release> <chart> -f ... --set ...` would print, as parsed YAML documents."""
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    values = yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}
    for path in value_files:
        values = merge(values, yaml.safe_load(path.read_text()) or {})
    values = merge(values, overrides or {})
    context = {
        "Values": values,
        "Release": {"Name": release, "Namespace": "default", "Service": "Helm"},
        "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart.get("appVersion", "")},
    }
    templates = sorted((chart_dir / "templates").glob("*"))
    defines: dict[str, list[Node]] = {}
    bodies = []
    for path in templates:
        nodes, found = parse(path.read_text())
        defines.update(found)
        if path.suffix == ".yaml" and not path.name.startswith("_"):
            bodies.append(nodes)
    renderer = Renderer(defines)
    documents = []
    for nodes in bodies:
        text = renderer.render(nodes, context, {"$": context})
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents
