"""The chart renderer against outputs Go's text/template and Helm give for the same templates (worked out by hand
from their documentation), so the manifests validated in test_helm_chart.py are the ones `helm template` prints."""

import pytest

from tests.helpers.gotemplate import Renderer, TemplateError, parse


def render(source: str, values: dict) -> str:
    nodes, defines = parse(source)
    context = {"Values": values, "Release": {"Name": "rel"}}
    return Renderer(defines).render(nodes, context, {"$": context})


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("a: {{ .Values.x }}\n", {"x": 3}, "a: 3\n"),
        ("a:\n  {{- if .Values.on }} yes{{ else }} no{{ end }}\n", {"on": False}, "a: no\n"),
        ("{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}", {"b": True}, "B"),
        ('{{ .Values.missing | default "d" | quote }}', {}, '"d"'),
        ("k:{{ .Values.m | toYaml | nindent 2 }}", {"m": {"b": 1, "a": [1, 2]}}, "k:\n  a:\n  - 1\n  - 2\n  b: 1"),
        ("{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}", {"m": {"b": 2, "a": 1}}, "a=1;b=2;"),
        ("{{ range .Values.l }}[{{ .n }}]{{ else }}none{{ end }}", {"l": []}, "none"),
        ("{{ with .Values.w }}{{ .x }}-{{ $.Release.Name }}{{ end }}", {"w": {"x": "in"}}, "in-rel"),
        ('{{ define "n" }}<{{ . }}>{{ end }}{{ include "n" .Values.x | quote }}', {"x": "v"}, '"<v>"'),
        ('{{ $p := printf "%s-%d" .Release.Name 7 }}{{ $p }}', {}, "rel-7"),
        ('{{ (eq .Values.a "x") | not }}', {"a": "x"}, "false"),
        ("{{- /* a comment */ -}}\n  x", {}, "x"),
    ],
)
def test_the_subset_renders_as_go_does(source: str, values: dict, expected: str) -> None:
    assert render(source, values) == expected


@pytest.mark.parametrize(
    "source", ["{{ .Values.x | lookup }}", "{{ if .Values.x }}open", "{{ end }}", "{{ .Values.m }}"]
)
def test_anything_outside_the_subset_is_refused(source: str) -> None:
    with pytest.raises(TemplateError):
        render(source, {"x": 1, "m": {"a": 1}})


def test_required_stops_the_render_with_its_message() -> None:
    with pytest.raises(TemplateError, match="set secrets.masterKey"):
        render('{{ required "set secrets.masterKey" .Values.k }}', {})
