"""What an uploaded branding image is, judged by its bytes, never by what the client says.

Raster types are recognised by their magic bytes. SVG is text that browsers run as a document, so
an SVG is parsed and refused (not rewritten) unless it is inert drawing: only SVG drawing elements
(plus the inert metadata of common editors), no event handlers, no scripts, no references outside
the document, no DTD. Served assets also carry ``Content-Security-Policy: default-src 'none'`` and
``X-Content-Type-Options: nosniff`` (see the view), so a check this misses still cannot run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from porta.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

PNG, JPEG, WEBP, ICO, SVG = "image/png", "image/jpeg", "image/webp", "image/x-icon", "image/svg+xml"
#: Names clients may send for each type; the stored type is the canonical one (the key).
ALIASES = {
    PNG: {PNG},
    JPEG: {JPEG, "image/jpg"},
    WEBP: {WEBP},
    ICO: {ICO, "image/vnd.microsoft.icon"},
    SVG: {SVG},
}
ALLOWED_CONTENT_TYPES = sorted(name for names in ALIASES.values() for name in names)
#: Size limits: upstream's newer validator (logo 2 MB, favicon 512 KB), with the logo at 1 MiB
#: because it travels base64-encoded in a JSON body of at most 2 MiB.
MAX_BYTES = {"logo": 1024 * 1024, "favicon": 512 * 1024}

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
#: Inert metadata namespaces that drawing editors write (Inkscape, Sodipodi, RDF, Creative Commons,
#: Dublin Core): their elements are ignored by browsers.
_INERT_NS = {
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://purl.org/dc/elements/1.1/",
}
_SVG_ELEMENTS = frozenset(
    [
        "svg",
        "g",
        "defs",
        "symbol",
        "use",
        "title",
        "desc",
        "metadata",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "textPath",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
        "marker",
        "style",
        "filter",
        "feBlend",
        "feColorMatrix",
        "feComponentTransfer",
        "feComposite",
        "feConvolveMatrix",
        "feDiffuseLighting",
        "feDisplacementMap",
        "feDistantLight",
        "feDropShadow",
        "feFlood",
        "feFuncA",
        "feFuncB",
        "feFuncG",
        "feFuncR",
        "feGaussianBlur",
        "feMerge",
        "feMergeNode",
        "feMorphology",
        "feOffset",
        "fePointLight",
        "feSpecularLighting",
        "feSpotLight",
        "feTile",
        "feTurbulence",
    ]
)
_EXTERNAL_URL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_ACTIVE_CSS = re.compile(r"@import|expression\s*\(|javascript:", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """The canonical content type of ``data`` by its leading bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"\x00\x00\x01\x00"):
        return ICO
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower():
        return SVG
    return None


def canonical(content_type: str) -> str | None:
    name = content_type.split(";")[0].strip().lower()
    return next((canonical for canonical, names in ALIASES.items() if name in names), None)


def _refuse_svg(reason: str) -> None:
    raise ValidationFailed(f"SVG refused: {reason}", details={"data": [f"SVG refused: {reason}"]})


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def check_svg(data: bytes) -> None:
    """Refuse an SVG that is not inert drawing (see the module docstring)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        _refuse_svg("not UTF-8 text")
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):
        _refuse_svg("a DTD or entity declaration")  # before parsing: no entity is ever expanded
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        _refuse_svg(f"not well-formed XML ({exc})")
    if _local(root.tag) != (_SVG_NS, "svg"):
        _refuse_svg("the root element is not <svg> in the SVG namespace")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        namespace, name = _local(element.tag)
        if namespace in _INERT_NS:
            continue
        if namespace != _SVG_NS or name not in _SVG_ELEMENTS:
            _refuse_svg(f"element <{name}> is not allowed")
        if name == "style" and (
            _EXTERNAL_URL.search(element.text or "") or _ACTIVE_CSS.search(element.text or "")
        ):
            _refuse_svg("a style sheet that loads or runs something")
        for attribute, value in element.attrib.items():
            attr_ns, attr_name = _local(attribute)
            if attr_name.lower().startswith("on"):
                _refuse_svg(f"event handler attribute {attr_name}")
            if attr_name == "href" and attr_ns in ("", _XLINK_NS) and not value.strip().startswith("#"):
                _refuse_svg("a reference outside the document")
            if "javascript:" in value.lower() or _ACTIVE_CSS.search(value) or _EXTERNAL_URL.search(value):
                _refuse_svg(f"attribute {attr_name} loads or runs something")


def validated_image(*, asset_type: str, data: bytes, declared: str | None) -> str:
    """The canonical content type of an upload of ``asset_type``, after every check: size (413),
    an allowed type by its bytes (415), the declared type matching the bytes (400), SVG inert
    (400)."""
    if len(data) > MAX_BYTES[asset_type]:
        raise PayloadTooLarge(f"A {asset_type} may be at most {MAX_BYTES[asset_type] // 1024} KiB")
    if declared is not None and canonical(declared) is None:
        raise UnsupportedMediaType(
            f"Content type {declared} is not allowed; allowed: {', '.join(ALLOWED_CONTENT_TYPES)}"
        )
    actual = sniff(data)
    if actual is None:
        raise UnsupportedMediaType(
            f"The data is not an image of an allowed type ({', '.join(ALLOWED_CONTENT_TYPES)})"
        )
    if declared is not None and canonical(declared) != actual:
        raise ValidationFailed(
            f"contentType {declared} does not match the data, which is {actual}",
            details={"contentType": [f"The data is {actual}"]},
        )
    if actual == SVG:
        check_svg(data)
    return actual
