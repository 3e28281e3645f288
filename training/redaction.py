"""Redaction of personal data and secrets before any text leaves the helpdesk.

Each kind of secret is a compiled pattern guarded by a cheap substring pre-check, so the
common text with nothing to redact costs a few `in` tests, not a dozen regex scans. Kinds
run from the most specific to the most general: a JWT is gone before the long-secret rule
looks at it, and a MAC address before the IPv6 rule.
"""

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field

EMAIL = "EMAIL"
IPV4 = "IPV4"
IPV6 = "IPV6"
MAC = "MAC"
PHONE = "PHONE"
URL_WITH_SECRET = "URL_WITH_SECRET"
PASSWORD = "PASSWORD"
SECRET = "SECRET"

KINDS = (SECRET, URL_WITH_SECRET, PASSWORD, EMAIL, MAC, IPV6, IPV4, PHONE)


def placeholder(kind: str) -> str:
    return f"[{kind}]"


@dataclass
class RedactionReport:
    """How many things of each kind one export (or one call) replaced."""

    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] += n

    def as_dict(self) -> dict[str, int]:
        return {kind: self.counts.get(kind, 0) for kind in KINDS}

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- patterns ----------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s<>\"'`]+")
_URL_USERINFO = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_SECRET_PARAM = re.compile(
    r"[?&#](?:access_token|refresh_token|id_token|token|auth|key|api_key|apikey|"
    r"secret|client_secret|password|passwd|pwd|sig|signature|x-amz-signature|"
    r"x-amz-credential|session|sessionid)=[^&#\s]",
    re.IGNORECASE,
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")
# Matched against the lower-cased text: a case-insensitive alternation is ten times slower.
_CREDENTIAL = re.compile(
    r"(?P<key>\b(?:password|passwd|passphrase|passwort|pwd|pass|pin|"
    r"secret|client_secret|api[_-]?key|apikey|access[_-]?key|token|auth[_-]?token)\b)"
    r"(?P<sep>\s*[:=]\s*|\s+(?:is|was|to)\s+)"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"',;]+)(?P=quote)"
)
_PIN_VALUE = re.compile(r"\bpin\s*[:=]|\bpin\s+(?:is|was|to)\s")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|"
    r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)
# Starts with a literal dot, so the engine jumps from dot to dot: a cheap gate for "1a2b.3c4d.5e6f".
_DOTTED_HEX = re.compile(r"\.[0-9A-Fa-f]{4}\.")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:%[\w.]+)?(?![\w:])"
)
# A dot after the address may end the sentence; "-1ubuntu", "+dfsg", "~rc" mark a version.
# Boundaries are checked on each match in Python: a look-behind at the start of a pattern
# stops the regex engine from skipping ahead to the next digit, which triples its cost.
_IPV4 = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?:/[0-9]{1,2})?")
_IPV4_AFTER = re.compile(r"\w|\.[0-9]|[-+~]\w")
_PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|\(\d{2,4}\)\s?\d{3,4}[\s.-]?\d{3,4}"  # (555) 123-4567
    r"|\d{3}[-.\s]\d{3}[-.\s]\d{4}"  # 555-123-4567
    r"|0\d{1,4}[\s-]\d{3,4}[\s-]?\d{3,4}"  # 030 1234 5678
    r")(?![\w-]|\.\d)"
)
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_HEX = re.compile(r"[0-9a-fA-F]+")
# A dotted quad right after these words is a version, not an address.
_VERSION_WORDS = re.compile(
    r"\b(?:version|ver\.?|release|build|kernel|firmware)\s*$", re.IGNORECASE
)
_AWS_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA")


# --- rules -------------------------------------------------------------------------------


def _private_keys(text: str, report: RedactionReport) -> str:
    if "-----BEGIN" not in text:
        return text
    return _count_sub(_PRIVATE_KEY, placeholder(SECRET), text, report, SECRET)


def _urls(text: str, report: RedactionReport) -> str:
    if "://" not in text:
        return text

    def replace(match: re.Match) -> str:
        url = match.group(0)
        if _URL_USERINFO.search(url) or _SECRET_PARAM.search(url):
            report.add(URL_WITH_SECRET)
            return placeholder(URL_WITH_SECRET)
        return url

    return _URL.sub(replace, text)


def _tokens(text: str, report: RedactionReport) -> str:
    if "eyJ" in text:
        text = _count_sub(_JWT, placeholder(SECRET), text, report, SECRET)
    if "A" in text and any(prefix in text for prefix in _AWS_PREFIXES):
        text = _count_sub(_AWS_KEY_ID, placeholder(SECRET), text, report, SECRET)
    if "_" in text and "gh" in text:
        text = _count_sub(_GITHUB_TOKEN, placeholder(SECRET), text, report, SECRET)
    if "xox" in text:
        text = _count_sub(_SLACK_TOKEN, placeholder(SECRET), text, report, SECRET)
    return text


def _credentials(text: str, report: RedactionReport) -> str:
    lowered = text.lower()
    # The words the pattern needs, not "key" or "pin" alone ("keeps", "ping" are common).
    if not (
        "pass" in lowered
        or "pwd" in lowered
        or "secret" in lowered
        or "token" in lowered
        or ("key" in lowered and ("api" in lowered or "access" in lowered))
        or ("pin" in lowered and _PIN_VALUE.search(lowered) is not None)
    ):
        return text
    if len(lowered) != len(text):
        # A few characters change length when lower-cased; keep positions aligned.
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    pieces = []
    done = 0
    for match in _CREDENTIAL.finditer(lowered):
        value = match.group("value")
        worded = match.group("sep").strip(" :=") != ""
        # "my password is expired": after "is" only a value with a digit or symbol counts.
        if value.startswith("[") or (worded and value.isalpha()):
            continue
        kind = PASSWORD if match.group("key").startswith(("pass", "pwd", "pin")) else SECRET
        report.add(kind)
        pieces.append(text[done : match.start("quote")])
        pieces.append(placeholder(kind))
        done = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _emails(text: str, report: RedactionReport) -> str:
    if "@" not in text:
        return text
    return _count_sub(_EMAIL, placeholder(EMAIL), text, report, EMAIL)


def _macs(text: str, report: RedactionReport) -> str:
    if text.count(":") < 5 and text.count("-") < 5 and not _DOTTED_HEX.search(text):
        return text
    return _count_sub(_MAC, placeholder(MAC), text, report, MAC)


def _ipv6(text: str, report: RedactionReport) -> str:
    if text.count(":") < 2:
        return text

    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        address = candidate.split("%", 1)[0]
        if len(address) < 3 or not _is_ipv6(address):
            return candidate
        report.add(IPV6)
        return placeholder(IPV6)

    return _IPV6.sub(replace, text)


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _ipv4(text: str, report: RedactionReport) -> str:
    if text.count(".") < 3:
        return text

    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        start, end = match.span()
        address = candidate.split("/", 1)[0]
        if (
            (start and (text[start - 1].isalnum() or text[start - 1] in "._"))
            or _IPV4_AFTER.match(text, end)
            or not _is_ipv4(address)
            or _VERSION_WORDS.search(text[max(0, start - 20) : start])
        ):
            return candidate
        report.add(IPV4)
        return placeholder(IPV4)

    return _IPV4.sub(replace, text)


def _is_ipv4(candidate: str) -> bool:
    octets = candidate.split(".")
    # Leading zeros ("01.02.03.04") are dates and versions, not addresses people type.
    return all(o == "0" or (not o.startswith("0") and int(o) <= 255) for o in octets)


def _phones(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        digits = sum(ch.isdigit() for ch in candidate)
        if not 7 <= digits <= 15:
            return candidate
        report.add(PHONE)
        return placeholder(PHONE)

    return _PHONE.sub(replace, text)


def _long_secrets(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str:
        token = match.group(0)
        if not _looks_random(token):
            return token
        report.add(SECRET)
        return placeholder(SECRET)

    return _LONG_TOKEN.sub(replace, text)


def _looks_random(token: str) -> bool:
    """A hex digest or a base64 blob, not a file path or a long word with dashes."""
    if _HEX.fullmatch(token):
        return any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token)
    if not any(ch.isdigit() for ch in token):
        return False
    classes = [_char_class(ch) for ch in token]
    if "upper" not in classes or "lower" not in classes:
        return False
    # Paths have many separators; CamelCase words switch case once a word; random blobs
    # switch between upper, lower and digits every two or three characters.
    separators = classes.count("other")
    switches = sum(a != b for a, b in zip(classes, classes[1:], strict=False))
    return separators <= len(token) / 12 and switches >= len(token) * 0.3


def _char_class(ch: str) -> str:
    if ch.isupper():
        return "upper"
    if ch.islower():
        return "lower"
    if ch.isdigit():
        return "digit"
    return "other"


def _count_sub(
    pattern: re.Pattern, replacement: str, text: str, report: RedactionReport, kind: str
) -> str:
    text, n = pattern.subn(replacement, text)
    if n:
        report.add(kind, n)
    return text


def redact(text: str, report: RedactionReport | None = None) -> str:
    """`text` with every recognised secret or personal datum replaced by a typed placeholder."""
    if report is None:
        report = RedactionReport()
    if not text:
        return text
    text = _private_keys(text, report)
    text = _urls(text, report)
    text = _tokens(text, report)
    text = _credentials(text, report)
    text = _emails(text, report)
    digits = _digit_count(text)
    if digits:
        text = _macs(text, report)
        text = _ipv6(text, report)
        text = _ipv4(text, report)
        if digits >= 7:
            text = _phones(text, report)
        if len(text) >= 32:
            text = _long_secrets(text, report)
    return text


def _digit_count(text: str) -> int:
    # Deleting digits from the UTF-8 bytes is the cheapest count Python offers (under 1 us).
    encoded = text.encode()
    return len(encoded) - len(encoded.translate(None, b"0123456789"))
