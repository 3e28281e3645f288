"""Redaction of personal data and secrets before any text leaves the helpdesk.

Kinds run from the most specific to the most general: a JWT is gone before the long-secret
rule looks at it, and a MAC address before the IPv6 rule. Two things keep the common text
with nothing to redact at a few microseconds:

- each kind is guarded by a test on characters it cannot do without (no "@", no e-mail;
  fewer than two ":", no IPv6), so most texts run no pattern at all;
- a pattern that does run is searched from the first place a match could start (a few
  characters before the first "://", the first keyword, the first ":" before a hex digit),
  not from the start of the text: a pattern that opens with `\\b` or a look-behind is tried
  at every position, about 0.1 us each, so the prefix it skips is most of its cost.
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
_URL_SCHEME_MAX = 16  # characters of a scheme before its "://"
_URL_USERINFO = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_SECRET_PARAM = re.compile(
    r"[?&#](?:access_token|refresh_token|id_token|token|auth|key|api_key|apikey|"
    r"secret|client_secret|password|passwd|pwd|sig|signature|x-amz-signature|"
    r"x-amz-credential|session|sessionid)=[^&#\s]",
    re.IGNORECASE,
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")
# Shares the literal "A" that starts every branch, so the engine jumps from "A" to "A".
_AWS_PREFIX = re.compile(r"AKIA|ASIA|AGPA|AIDA|AROA")
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")
# Matched against the lower-cased text: a case-insensitive alternation is ten times slower.
# No `\b` in front: a pattern that opens with plain letters lets the engine skip to the
# next "p", "s", "c", "a" or "t"; the word boundary before the key is checked per match.
_CREDENTIAL = re.compile(
    r"(?P<key>(?:password|passwd|passphrase|passwort|pwd|pass|pin|"
    r"secret|client_secret|api[_-]?key|apikey|access[_-]?key|token|auth[_-]?token)\b)"
    r"(?P<sep>\s*[:=]\s*|\s+(?:is|was|to)\s+)"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"',;]+)(?P=quote)"
)
# Every key above contains one of these; the longest prefix before one is "client_"/"access_".
_CREDENTIAL_ROOTS = ("pass", "pwd", "secret", "token", "key")
_CREDENTIAL_PREFIX_MAX = 7
# What may follow a root up to the separator: the rest of the key ("word" after "pass").
_CREDENTIAL_TAIL = re.compile(r"[a-z]{0,6}\b(?:\s*[:=]|\s+(?:is|was|to)\s)")
_PIN_VALUE = re.compile(r"\bpin\s*[:=]|\bpin\s+(?:is|was|to)\s")
_WORD_CHAR = re.compile(r"\w")
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
# The first ":" of an IPv6 match opens "::" or comes before a hex digit (groups hold at most 4).
_IPV6_COLON = re.compile(r":[0-9A-Fa-f:]")
_IPV6_GROUP_MAX = 4
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
_PHONE_START = re.compile(r"[0-9+(]")
_PHONE_DIGITS_MIN = 7
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_LONG_TOKEN_MIN = 32
# The UTF-8 bytes of a text with every character of _LONG_TOKEN turned into "t": a run of 32
# "t" is the only place a long secret can be, found by a C substring search.
_TOKEN_BYTES = bytes(
    ord("t") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/=_-") else ord(" ")
    for b in range(256)
)
_TOKEN_RUN = b"t" * _LONG_TOKEN_MIN
_HEX = re.compile(r"[0-9a-fA-F]+")
# A dotted quad right after these words is a version, not an address.
_VERSION_ROOTS = ("ver", "release", "build", "kernel", "firmware")
_VERSION_WORDS = re.compile(
    r"\b(?:version|ver\.?|release|build|kernel|firmware)\s*$", re.IGNORECASE
)
_DIGITS = b"0123456789"
_DIGITS_AS_ZERO = bytes.maketrans(_DIGITS, b"0" * len(_DIGITS))


# --- rules -------------------------------------------------------------------------------
#
# Each rule takes the text, where to start searching and the report; the gate that decides
# whether it runs at all, and the start, are worked out in `redact`.

_Replace = Callable[[re.Match], str | None]


def _rewrite(pattern: re.Pattern, text: str, start: int, replace: _Replace) -> str:
    """`pattern.sub` from `start` on; `replace` returns None to keep a match as it is.

    Searching from `start` (not from a slice) keeps the characters before it visible to
    `\\b` and look-behinds, so the matches are those of a search from 0.
    """
    pieces = []
    done = 0
    for match in pattern.finditer(text, start):
        new = replace(match)
        if new is not None:
            pieces.append(text[done : match.start()])
            pieces.append(new)
            done = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _replace_all(
    pattern: re.Pattern, text: str, start: int, kind: str, report: RedactionReport
) -> str:
    def replace(match: re.Match) -> str:
        report.add(kind)
        return placeholder(kind)

    return _rewrite(pattern, text, start, replace)


def _private_keys(text: str, report: RedactionReport) -> str:
    return _replace_all(_PRIVATE_KEY, text, text.find("-----BEGIN"), SECRET, report)


def _urls(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        url = match.group(0)
        if _URL_USERINFO.search(url) or _SECRET_PARAM.search(url):
            report.add(URL_WITH_SECRET)
            return placeholder(URL_WITH_SECRET)
        return None

    start = max(0, text.find("://") - _URL_SCHEME_MAX)
    return _rewrite(_URL, text, start, replace)


def _jwts(text: str, report: RedactionReport) -> str:
    return _replace_all(_JWT, text, text.find("eyJ"), SECRET, report)


def _aws_key_ids(text: str, start: int, report: RedactionReport) -> str:
    return _replace_all(_AWS_KEY_ID, text, start, SECRET, report)


def _github_tokens(text: str, report: RedactionReport) -> str:
    return _replace_all(_GITHUB_TOKEN, text, text.find("gh"), SECRET, report)


def _slack_tokens(text: str, report: RedactionReport) -> str:
    return _replace_all(_SLACK_TOKEN, text, text.find("xox"), SECRET, report)


def _may_hold_credential(lowered: str) -> bool:
    # Not "key" or "pin" alone: "keeps" and "ping" are common words.
    return (
        "pass" in lowered
        or "pwd" in lowered
        or "secret" in lowered
        or "token" in lowered
        or ("key" in lowered and ("api" in lowered or "access" in lowered))
        or ("pin" in lowered and _PIN_VALUE.search(lowered) is not None)
    )


def _credential_start(lowered: str) -> int:
    """Where the first credential in `lowered` can start, or -1 where none can.

    A key is followed by ":", "=", "is", "was" or "to"; "forgot my password and" has none,
    and costs a few substring searches instead of a scan of the rest of the text.
    """
    start = len(lowered)
    for root in _CREDENTIAL_ROOTS:
        end = start + len(root) - 1  # an occurrence must begin before the best start so far
        at = lowered.find(root, 0, end)
        while at >= 0 and _CREDENTIAL_TAIL.match(lowered, at + len(root)) is None:
            at = lowered.find(root, at + 1, end)
        if at >= 0:
            start = at
    if "pin" in lowered and (pin := _PIN_VALUE.search(lowered)) is not None:
        start = min(start, pin.start())
    if start == len(lowered):
        return -1
    return max(0, start - _CREDENTIAL_PREFIX_MAX)


def _credentials(text: str, lowered: str, report: RedactionReport) -> str:
    if len(lowered) != len(text):
        # A few characters change length when lower-cased; keep positions aligned.
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    pieces = []
    done = 0
    at = _credential_start(lowered)
    if at < 0:
        return text
    while (match := _CREDENTIAL.search(lowered, at)) is not None:
        key_start = match.start()
        if key_start and _WORD_CHAR.match(lowered, key_start - 1):
            at = key_start + 1  # inside a word ("bypass: x"): no key starts here
            continue
        at = match.end()
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
    at = text.find("@")
    # The name before "@" holds no space or line break.
    start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
    return _replace_all(_EMAIL, text, start, EMAIL, report)


def _mac_start(text: str) -> int:
    """Where the first MAC address could start, or -1 where none can be."""
    starts = []
    if text.count(":") >= 5:
        starts.append(text.find(":") - 2)
    if text.count("-") >= 5:
        starts.append(text.find("-") - 2)
    if (dotted := _DOTTED_HEX.search(text)) is not None:
        starts.append(dotted.start() - 4)
    return max(0, min(starts)) if starts else -1


def _ipv6(text: str, start: int, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        address = match.group(0).split("%", 1)[0]
        if len(address) < 3 or not _is_ipv6(address):
            return None
        report.add(IPV6)
        return placeholder(IPV6)

    return _rewrite(_IPV6, text, start, replace)


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _ipv4(text: str, start: int, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        start, end = match.span()
        if (
            (start and (text[start - 1].isalnum() or text[start - 1] in "._"))
            or _IPV4_AFTER.match(text, end)
            or not _is_ipv4(match.group(0).split("/", 1)[0])
            or _after_version_word(text[max(0, start - 20) : start])
        ):
            return None
        report.add(IPV4)
        return placeholder(IPV4)

    return _rewrite(_IPV4, text, start, replace)


def _after_version_word(before: str) -> bool:
    lowered = before.lower()
    if not any(word in lowered for word in _VERSION_ROOTS):
        return False  # the regex below costs ten of these tests
    return _VERSION_WORDS.search(before) is not None


def _is_ipv4(candidate: str) -> bool:
    octets = candidate.split(".")
    # Leading zeros ("01.02.03.04") are dates and versions, not addresses people type.
    return all(o == "0" or (not o.startswith("0") and int(o) <= 255) for o in octets)


def _phones(text: str, start: int, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        digits = sum(ch.isdigit() for ch in match.group(0))
        if not _PHONE_DIGITS_MIN <= digits <= 15:
            return None
        report.add(PHONE)
        return placeholder(PHONE)

    return _rewrite(_PHONE, text, start, replace)


def _long_secrets(text: str, start: int, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        if not _looks_random(match.group(0)):
            return None
        report.add(SECRET)
        return placeholder(SECRET)

    return _rewrite(_LONG_TOKEN, text, start, replace)


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


def _digit_count(encoded: bytes) -> int:
    # Deleting digits from the UTF-8 bytes is the cheapest count Python offers (under 1 us).
    return len(encoded) - len(encoded.translate(None, _DIGITS))


def redact(text: str, report: RedactionReport | None = None) -> str:
    """`text` with every recognised secret or personal datum replaced by a typed placeholder."""
    if report is None:
        report = RedactionReport()
    if not text:
        return text
    # `in` tests first: a method call (`find`) costs three of them, and most texts stop here.
    if "-----BEGIN" in text:
        text = _private_keys(text, report)
    if "://" in text:
        text = _urls(text, report)
    if "eyJ" in text:
        text = _jwts(text, report)
    if "A" in text and (aws := _AWS_PREFIX.search(text)) is not None:
        text = _aws_key_ids(text, aws.start(), report)
    if "_" in text and "gh" in text:
        text = _github_tokens(text, report)
    if "xox" in text:
        text = _slack_tokens(text, report)
    lowered = text.lower()
    if _may_hold_credential(lowered):
        text = _credentials(text, lowered, report)
    if "@" in text:
        text = _emails(text, report)
    encoded = text.encode()
    if len(encoded) == len(encoded.translate(None, _DIGITS)):
        return text  # every kind left needs a digit
    return _redact_numbers(text, encoded, report)


def _redact_numbers(text: str, encoded: bytes, report: RedactionReport) -> str:
    """The kinds that hold digits: MAC, IPv6, IPv4, phone numbers, long random secrets."""
    if (start := _mac_start(text)) >= 0:
        text = _replace_all(_MAC, text, start, MAC, report)
    if (colon := _IPV6_COLON.search(text)) is not None and text.count(":") >= 2:
        text = _ipv6(text, max(0, colon.start() - _IPV6_GROUP_MAX), report)
    encoded = text.encode()  # addresses replaced above no longer count as digits
    # An address's first dot has a digit on each side: "0.0" once digits are all "0".
    if text.count(".") >= 3 and (dotted := encoded.translate(_DIGITS_AS_ZERO).find(b"0.0")) >= 0:
        # Byte and character positions agree only for ASCII text.
        start = max(0, dotted - 2) if len(encoded) == len(text) else 0
        text = _ipv4(text, start, report)
        encoded = text.encode()
    if _digit_count(encoded) >= _PHONE_DIGITS_MIN:
        text = _phones(text, _PHONE_START.search(text).start(), report)
        encoded = text.encode()
    if (
        len(encoded) >= _LONG_TOKEN_MIN
        and (run := encoded.translate(_TOKEN_BYTES).find(_TOKEN_RUN)) >= 0
    ):
        # Byte and character positions agree only for ASCII text.
        start = run if len(encoded) == len(text) else 0
        text = _long_secrets(text, start, report)
    return text
