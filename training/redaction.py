"""Redaction of personal data and secrets before any text leaves the helpdesk.

Each kind of secret is a compiled pattern guarded by a cheap substring pre-check, so the
common text with nothing to redact costs a few `in` tests, not a dozen regex scans. Kinds
run from the most specific to the most general: a JWT is gone before the long-secret rule
looks at it, and a MAC address before the IPv6 rule.
"""

import ipaddress
import re
from collections import Counter
from collections.abc import Callable
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
_CREDENTIAL = re.compile(
    r"(?P<key>\b(?:password|passwd|passphrase|passwort|pwd|pass|pin|"
    r"secret|client_secret|api[_-]?key|apikey|access[_-]?key|token|auth[_-]?token)\b)"
    r"(?P<sep>\s*[:=]\s*|\s+(?:is|was|to)\s+)"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"',;]+)(?P=quote)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|"
    r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:%[\w.]+)?(?![\w:])"
)
# A dot after the address may end the sentence; "-1ubuntu", "+dfsg", "~rc" mark a version.
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?!\w|\.\d|[-+~]\w)")
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
_CREDENTIAL_WORDS = ("pass", "pwd", "secret", "key", "token", "pin")


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
    if any(prefix in text for prefix in _AWS_PREFIXES):
        text = _count_sub(_AWS_KEY_ID, placeholder(SECRET), text, report, SECRET)
    if "gh" in text:
        text = _count_sub(_GITHUB_TOKEN, placeholder(SECRET), text, report, SECRET)
    if "xox" in text:
        text = _count_sub(_SLACK_TOKEN, placeholder(SECRET), text, report, SECRET)
    return text


def _credentials(text: str, report: RedactionReport) -> str:
    lowered = text.lower()
    if not any(word in lowered for word in _CREDENTIAL_WORDS):
        return text

    def replace(match: re.Match) -> str:
        value = match.group("value")
        worded = match.group("sep").strip(" :=") != ""
        # "my password is expired": after "is" only a value with a digit or symbol counts.
        if value.startswith("[") or (worded and value.isalpha()):
            return match.group(0)
        key = match.group("key").lower()
        kind = PASSWORD if key.startswith(("pass", "pwd", "pin")) else SECRET
        report.add(kind)
        return f"{match.group('key')}{match.group('sep')}{placeholder(kind)}"

    return _CREDENTIAL.sub(replace, text)


def _emails(text: str, report: RedactionReport) -> str:
    if "@" not in text:
        return text
    return _count_sub(_EMAIL, placeholder(EMAIL), text, report, EMAIL)


def _macs(text: str, report: RedactionReport) -> str:
    if ":" not in text and "-" not in text and "." not in text:
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
    if "." not in text:
        return text

    def replace(match: re.Match) -> str:
        candidate = match.group(0)
        address = candidate.split("/", 1)[0]
        before = text[max(0, match.start() - 20) : match.start()]
        if not _is_ipv4(address) or _VERSION_WORDS.search(before):
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


_RULES: tuple[Callable[[str, RedactionReport], str], ...] = (
    _private_keys,
    _urls,
    _tokens,
    _credentials,
    _emails,
    _macs,
    _ipv6,
    _ipv4,
    _phones,
    _long_secrets,
)
_NEEDS_DIGIT = {_macs, _ipv6, _ipv4, _phones}


def redact(text: str, report: RedactionReport | None = None) -> str:
    """`text` with every recognised secret or personal datum replaced by a typed placeholder."""
    if report is None:
        report = RedactionReport()
    if not text:
        return text
    has_digit = _has_digit(text)
    long_enough = len(text) >= 32
    for rule in _RULES:
        if rule in _NEEDS_DIGIT and not has_digit:
            continue
        if rule is _long_secrets and not long_enough:
            continue
        text = rule(text, report)
    return text


_DIGITS = frozenset("0123456789")


def _has_digit(text: str) -> bool:
    return not _DIGITS.isdisjoint(text)
