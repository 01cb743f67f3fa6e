"""Rendering courier messages from templates/courier/<name>_subject.txt, <name>.txt and <name>.html."""

from __future__ import annotations

from django.template.loader import render_to_string

TEMPLATES = frozenset({"invitation", "recovery", "verification"})


def render_message(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of message ``template`` rendered with ``context``."""
    if template not in TEMPLATES:
        raise ValueError(f"Unknown courier template {template!r}")
    subject = " ".join(render_to_string(f"courier/{template}_subject.txt", context).split())
    text = render_to_string(f"courier/{template}.txt", context)
    html = render_to_string(f"courier/{template}.html", context)
    return subject, text, html
