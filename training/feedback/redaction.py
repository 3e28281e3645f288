"""Redaction of secrets and personal data; our own patterns only where no library finds them (e-mail, IP/MAC, URLs).

Who finds what:

- detect-secrets' plugins (their `analyze_string`, one line at a time, no baseline): keys
  and tokens, private-key markers, `key = value` assignments, high-entropy strings. A few
  small plugins of ours on its `RegexBasedDetector` base add the forms its plugins miss:
  HTTP `Authorization` and `Cookie` headers, passwords on command lines (`mysql -p`,
  `net use`), "my password is ...", more keys (`token`, `pin`, `passphrase`), GitHub
  fine-grained tokens, private-key markers in any case and PuTTY's version 3;
- phonenumbers' `PhoneNumberMatcher` (leniency VALID), international numbers and the
  national formats of settings.REDACTION_PHONE_REGIONS;
- python-stdnum: Luhn for card numbers, IBANs, US social security numbers.

Speed: most texts hold nothing to redact, and every detector sits behind a cheap test on
what it cannot do without, so most texts run no regular expression at all: no token
plugin without a run of 20 token characters (one `bytes.translate` and a substring search),
no keyword plugin without one of its keys and a ":" or "=", no phone, card or IBAN search
without 7 digits, and phonenumbers (about 50 us a call) only on the short runs of digits
that could be a number, one region after the other.
"""

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from detect_secrets.filters.heuristic import (
    is_potential_uuid,
    is_sequential_string,
    is_templated_secret,
)
from detect_secrets.plugins import keyword as keyword_plugin
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from stdnum import iban, luhn
from stdnum.us import ssn

EMAIL = "EMAIL"
IPV4 = "IPV4"
IPV6 = "IPV6"
MAC = "MAC"
PHONE = "PHONE"
URL_WITH_SECRET = "URL_WITH_SECRET"
PASSWORD = "PASSWORD"
SECRET = "SECRET"
CARD = "CARD"
IBAN = "IBAN"
NATIONAL_ID = "NATIONAL_ID"

KINDS = (
    SECRET,
    URL_WITH_SECRET,
    PASSWORD,
    CARD,
    IBAN,
    NATIONAL_ID,
    EMAIL,
    MAC,
    IPV6,
    IPV4,
    PHONE,
)


def placeholder(kind: str) -> str:
    return f"[{kind}]"


_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(KINDS) + r")\]")


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


def redact(
    text: str, report: RedactionReport | None = None, *, phone_regions: Sequence[str] | None = None
) -> str:
    """`text` with every recognised secret or personal datum replaced by a typed placeholder.

    `phone_regions` (ISO 3166 codes) are the countries whose national phone formats count;
    settings.REDACTION_PHONE_REGIONS by default.
    """
    if report is None:
        report = RedactionReport()
    if not text:
        return text
    lowered = text.lower()
    # `in` tests first: a method call costs three of them, and most texts stop at them.
    if "private key" in lowered or "putty-user-key-file" in lowered:
        text = _private_keys(text, report)
    if "://" in text:
        text = _urls(text, report)
    # Redactions only take characters away from runs of token characters: a text without a
    # run now has none for the entropy test at the end either.
    has_token_run = _token_run(text) >= 0
    text = _plugin_secrets(text, report, has_token_run)
    if "@" in text:
        text = _emails(text, report)
    text = _addresses(text, report)
    if _digit_count(text.encode()) >= _PHONE_DIGITS_MIN:
        text = _numbers(text, report, phone_regions)
    return _high_entropy(text, report) if has_token_run else text


# --- detect-secrets plugins ----------------------------------------------------------------


class _PrivateKeyMarkers(PrivateKeyDetector):
    """detect-secrets' private-key markers in any case ("-----begin rsa private key-----"
    is pasted too), and the two it lacks: PKCS#8 encrypted keys and PuTTY's version 3."""

    denylist = [
        *(re.compile(pattern.pattern, re.IGNORECASE) for pattern in PrivateKeyDetector.denylist),
        re.compile(r"BEGIN ENCRYPTED PRIVATE KEY", re.IGNORECASE),
        re.compile(r"PuTTY-User-Key-File-\d", re.IGNORECASE),
    ]


class _GitHubFineGrainedToken(RegexBasedDetector):
    """GitHubTokenDetector knows the `ghp_` family only."""

    secret_type = "GitHub Fine-Grained Token"
    denylist = [re.compile(r"github_pat_[A-Za-z0-9_]{22,}")]


class _FormsDetector(RegexBasedDetector):
    """A detector whose patterns each run only on a line holding one of its triggers (lower
    case): most lines hold none. A pattern's value is its last group.

    With `on_lowered`, the patterns are written in lower case and run on the lower-cased
    line, and a match right after a letter is skipped here: a pattern that opens with
    `\\b` or is case-insensitive costs the engine a step per character (8 us on a line of
    200), one that opens with plain letters lets it skip to the next of its first letters
    (1.5 us). The value is cut from the line as it was.
    """

    forms: tuple[tuple[tuple[str, ...], re.Pattern], ...] = ()
    on_lowered = False

    @property
    def denylist(self) -> list[re.Pattern]:
        return [pattern for _triggers, pattern in self.forms]

    @classmethod
    def triggers(cls) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for triggers, _pattern in cls.forms for t in triggers))

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        lowered = _lower_in_place(string)
        for triggers, pattern in self.forms:
            if not any(map(lowered.__contains__, triggers)):
                continue
            for match in pattern.finditer(lowered if self.on_lowered else string):
                if self.on_lowered and match.start() and lowered[match.start() - 1].isalpha():
                    continue
                # Each form's value is its last group: `lastindex` is never None here.
                begin, end = match.span(match.lastindex)  # type: ignore[arg-type]
                yield string[begin:end]


def _lower_in_place(text: str) -> str:
    """`text.lower()`, keeping the few characters that change length as they are, so that
    positions in one are positions in the other."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


_TOKEN = r"([A-Za-z0-9._~+/=-]{6,})"
_SCHEMES = r"(?:basic|bearer|token|negotiate|ntlm)"


class _CredentialHeader(_FormsDetector):
    """HTTP headers that carry credentials, as pasted from curl -v or a browser."""

    secret_type = "HTTP Credential Header"
    forms = (
        (
            ("authoriz",),
            re.compile(r"authorization[\"']?\s*[:=]\s*[\"']?" + _SCHEMES + r"\s+" + _TOKEN, re.I),
        ),
        # Digest and AWS signatures spread over key=value pairs: all the rest of the line.
        (
            ("authoriz",),
            re.compile(r"authorization\s*:\s*(?:digest|aws4-hmac-sha256)\s+([^\r\n]+)", re.I),
        ),
        (
            ("authoriz",),
            re.compile(
                r"authorization[\"']?\s*:\s*[\"']?(?!(?:basic|bearer|token|negotiate|ntlm"
                r"|digest|aws4-hmac-sha256)\s)" + _TOKEN,
                re.IGNORECASE,
            ),
        ),
        (("bearer",), re.compile(r"\bbearer\s+" + _TOKEN, re.IGNORECASE)),
        (("cookie",), re.compile(r"\b(?:set-)?cookie[\"']?\s*:\s*[\"']?([^\"'\r\n]+)", re.I)),
        (
            ("-token", "api-key"),
            re.compile(
                r"\b(?:x-auth-token|x-access-token|private-token|(?:x-|x-goog-)?api-key)"
                r"[\"']?\s*:\s*[\"']?([^\s\"',]+)",
                re.IGNORECASE,
            ),
        ),
    )


_ARGUMENT_VALUE = r"(\"[^\"]+\"|'[^']+'|[^\s\"']+)"


class _CommandLinePassword(_FormsDetector):
    """Passwords given as arguments: `mysql -pS3cret`, `net use Z: \\\\srv\\share P@ss`."""

    secret_type = "Command-Line Password"
    forms = (
        (("mysql",), re.compile(r"\bmysql\w*\b.*?\s-p(?![\s-])" + _ARGUMENT_VALUE)),  # "-p" prompts
        # --password x, --db-password=x, -pass x (not --password-stdin)
        (
            ("-pass",),
            re.compile(r"(?:^|\s)--?[\w-]*pass(?:word)?[= ](?!-)" + _ARGUMENT_VALUE, re.I),
        ),
        (("sshpass",), re.compile(r"\bsshpass\s+-p\s*" + _ARGUMENT_VALUE)),
        (("psexec",), re.compile(r"\bpsexec\b.*?\s-p\s+" + _ARGUMENT_VALUE, re.IGNORECASE)),
        (("redis-cli",), re.compile(r"\bredis-cli\b.*?\s-a\s+" + _ARGUMENT_VALUE)),
        (
            ("securestring",),
            re.compile(r"convertto-securestring\s+(?:-string\s+)?" + _ARGUMENT_VALUE, re.I),
        ),
        ((" -u",), re.compile(r"\s-u\s+[^\s:]+:" + _ARGUMENT_VALUE)),  # curl -u bob:pw
        ((" -u",), re.compile(r"\s-U\s*[^\s%]+%" + _ARGUMENT_VALUE)),  # smbclient -U bob%pw
        (("--user",), re.compile(r"\s--user[= ][^\s:]+:" + _ARGUMENT_VALUE)),
        (("/p",), re.compile(r"\s/(?:pass(?:word)?|p):" + _ARGUMENT_VALUE, re.I)),  # cmdkey
        (("/rp",), re.compile(r"\s/rp\s+" + _ARGUMENT_VALUE, re.IGNORECASE)),  # schtasks
        (("net user",), re.compile(r"\bnet\s+user\s+(?!/)\S+\s+(?![/*])" + _ARGUMENT_VALUE, re.I)),
        # `net use [drive:] \\server\share [password] [/user:name] [/options]`: the arguments
        # that follow, sorted out below.
        (("net use",), re.compile(r"\bnet\s+use\b(.*)", re.IGNORECASE)),
    )
    _NET_USE = forms[-1][1]
    _ARGUMENT = re.compile(r"\"[^\"]*\"|\S+")
    _NOT_A_PASSWORD = re.compile(r"[A-Za-z]:|\*|\"?(?:\\\\|/).*")  # drive, share, option

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for found in super().analyze_string(string):
            if (net_use := self._NET_USE.search(string)) is None or net_use.group(1) != found:
                yield found
                continue
            for argument in self._ARGUMENT.findall(found):
                if not self._NOT_A_PASSWORD.fullmatch(argument):
                    yield argument


class _SpokenPassword(_FormsDetector):
    """A password in a sentence ("my new password is Winter2024!"): a value after "is",
    "was" or "to" counts when it is quoted or holds a digit or a symbol ("the password is
    expired" stays)."""

    secret_type = "Spoken Password"
    on_lowered = True
    _ROOTS = ("pass", "pin", "kennwort")
    _PATTERN = re.compile(
        r"(?:pass(?:word|wd|phrase|code)?|pin|kennwort|passwort)\b"
        r"(?:\s+(?:is|was|to|now|set to|changed to|will be))+:?\s+"
        r"(?:[\"'“]([^\"'”\n]+)[\"'”]|(?=[^\s\"']*?[^\sa-z\"'.,;?])([^\s\"']+?))"
        r"[.,;?]?(?=\s|$)"
    )
    forms = ((_ROOTS, _PATTERN),)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        # Matched at each root, not searched for: "password" is in most tickets, a password
        # after it in few.
        lowered = _lower_in_place(string)
        for root in self._ROOTS:
            at = lowered.find(root)
            while at >= 0:
                starts_word = not (at and lowered[at - 1].isalpha())
                if starts_word and (match := self._PATTERN.match(lowered, at)) is not None:
                    # Each form's value is its last group: `lastindex` is never None here.
                    begin, end = match.span(match.lastindex)  # type: ignore[arg-type]
                    yield string[begin:end]
                at = lowered.find(root, at + 1)


class _MoreKeywords(_FormsDetector):
    """Assignments KeywordDetector misses: keys its list lacks (token, pin, passphrase, ...),
    a space before the ":" (`"Password" : "x"`), a value that starts with a symbol
    (`DB_PASSWORD=!x`). Its shape otherwise: key, closing quote, ":" or "=", quote, value;
    a value without quotes runs to the end of the line."""

    secret_type = "More Secret Keywords"
    on_lowered = True
    forms = (
        (
            ("token", "pass", "pw", "pin", "cred", "kennwort", "access", "secret", "key"),
            re.compile(
                r"(?:(?:access|auth|refresh|session|id|private|bearer|api|client)[_-]?)?"
                r"(?:token|passphrase|passcode|pass|pw|pin|credentials?|kennwort|passwort"
                r"|password|passwd|pwd|secret|access[_-]?key|api[_-]?key|mot[_ ]de[_ ]passe)"
                r"(?![a-z])" + f"(?:{keyword_plugin.CLOSING})?" + r"\s*(?:=>|[:=])\s*"
                r"(?:([\"'`])([^\n]+?)\1|([^\s\"'`\[](?:[^\n\"'`]*[^\s\"'`,;])?))"
            ),
        ),
    )


class _MarkupPassword(_FormsDetector):
    """Passwords in XML: `<password>x</password>` (Maven, unattend.xml) and .NET's
    `<add key="DbPassword" value="x" />`."""

    secret_type = "Markup Password"
    on_lowered = True
    _KEY = r"[\w.:-]*(?:password|passwd|pass|pwd|secret|token|api_?key|passphrase)"
    forms = (
        (
            ("pass", "pwd", "secret", "token", "key"),
            re.compile(r"<" + _KEY + r"\b[^>]*>\s*(?:<value>\s*)?([^<\s][^<]*?)\s*</"),
        ),
        (
            ("value",),
            re.compile(r"key\s*=\s*[\"']" + _KEY + r"[\"']\s+value\s*=\s*[\"']([^\"']+)[\"']"),
        ),
    )


# KeywordDetector's patterns for config files and for code, together: pasted text is both.
# Those of the other file types that require quotes are left out: the config patterns
# find the same assignments with their quotes optional. PHP's `=>` is _MoreKeywords': its
# pattern here costs 300 us on a line of 100 characters.
_KEYWORD_PATTERNS = {
    **keyword_plugin.CONFIG_DENYLIST_REGEX_TO_GROUP,
    **keyword_plugin.GOLANG_DENYLIST_REGEX_TO_GROUP,
    **keyword_plugin.COMMON_C_DENYLIST_REGEX_TO_GROUP,
}
# What each of them cannot match without (one of each group): they cost 3 to 13 us each on
# a line of 70 characters, and a line holds the signs of one or two.
_KEYWORD_PATTERN_NEEDS = {
    keyword_plugin.FOLLOWED_BY_COLON_REGEX: ((":",),),
    keyword_plugin.FOLLOWED_BY_COLON_EQUAL_SIGNS_REGEX: ((":=",),),
    keyword_plugin.FOLLOWED_BY_EQUAL_SIGNS_REGEX: (("=",),),
    keyword_plugin.PRECEDED_BY_EQUAL_COMPARISON_SIGNS_QUOTES_REQUIRED_REGEX: (("==", "!="),),
    keyword_plugin.FOLLOWED_BY_QUOTES_AND_SEMICOLON_REGEX: ((";",),),
    keyword_plugin.FOLLOWED_BY_EQUAL_SIGNS_OPTIONAL_BRACKETS_OPTIONAL_AT_SIGN_QUOTES_REQUIRED_REGEX: (
        ("=", "!"),
        ('"',),
    ),
}
assert _KEYWORD_PATTERN_NEEDS.keys() == _KEYWORD_PATTERNS.keys()
_PASSWORD_KEYS = ("pass", "pwd", "pw", "pin", "contrase", "kennwort", "passwort")
_SECRET_KEYS = ("secret", "key", "token", "cred", "auth")


class _Keywords(KeywordDetector):
    """KeywordDetector over all its patterns, not only those of one file type; over those
    whose signs are in the line, that is."""

    def analyze_string(self, string: str) -> Iterable[str]:  # type: ignore[override]
        patterns = {
            pattern: group
            for pattern, group in _KEYWORD_PATTERNS.items()
            if all(
                any(map(string.__contains__, signs)) for signs in _KEYWORD_PATTERN_NEEDS[pattern]
            )
        }
        return super().analyze_string(string, denylist_regex_to_group=patterns)


_KindOf = Callable[[str, int], str]


def _kind_of_key(line: str, at: int) -> str:
    """PASSWORD or SECRET, by the nearer of the two kinds of key before the value at `at`."""
    before = _PLACEHOLDER.sub("", line[:at].lower())
    password_at = max(before.rfind(root) for root in _PASSWORD_KEYS)
    secret_at = max(before.rfind(root) for root in _SECRET_KEYS)
    return PASSWORD if password_at > secret_at else SECRET


@dataclass(frozen=True)
class _Plugin:
    detector: BasePlugin
    # The plugin runs on a line only where one of these is in the lower-cased line; in the
    # line as it is for a plugin that finds tokens (their patterns heed case).
    triggers: tuple[str, ...]
    kind: str | _KindOf
    # A key or token: runs only on text with a run of _TOKEN_RUN_MIN token characters (every
    # key and token has one), and what it finds is widened to the whole token around it.
    finds_tokens: bool = False
    # Only on lines where _next_key finds a key and its ":" or "=".
    needs_assignment: bool = False


_ASSIGNMENT_KEYS = ("pass", "pwd", "pw", "secret", "key", "token", "pin", "cred", "contrase")
_PLUGINS = (
    # Tokens with a shape of their own first: a GitHub token after "token:" is a SECRET.
    _Plugin(AWSKeyDetector(), ("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "aws"), SECRET, True),
    _Plugin(GitHubTokenDetector(), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), SECRET, True),
    _Plugin(_GitHubFineGrainedToken(), ("github_pat_",), SECRET, True),
    _Plugin(GitLabTokenDetector(), ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-"), SECRET, True),
    _Plugin(GitLabTokenDetector(), ("GR1348941", "glcbt-", "glimt-", "glptt-"), SECRET, True),
    _Plugin(GitLabTokenDetector(), ("glagent-", "gloas-"), SECRET, True),
    _Plugin(SlackDetector(), ("xox", "XOX", "hooks.slack.com"), SECRET, True),
    _Plugin(StripeDetector(), ("k_live_",), SECRET, True),
    _Plugin(OpenAIDetector(), ("T3BlbkFJ",), SECRET, True),
    _Plugin(NpmDetector(), ("_authToken",), SECRET, True),
    _Plugin(PypiTokenDetector(), ("pypi-",), SECRET, True),
    _Plugin(SendGridDetector(), ("SG.",), SECRET, True),
    _Plugin(SquareOAuthDetector(), ("sq0csp-",), SECRET, True),
    _Plugin(AzureStorageKeyDetector(), ("AccountKey=",), SECRET, True),
    _Plugin(JwtTokenDetector(), ("eyJ",), SECRET, True),
    _Plugin(TwilioKeyDetector(), ("AC", "SK"), SECRET, True),
    _Plugin(MailchimpDetector(), ("-us",), SECRET, True),
    _Plugin(TelegramBotTokenDetector(), (":",), SECRET, True),
    _Plugin(DiscordBotTokenDetector(), (".",), SECRET, True),
    _Plugin(ArtifactoryDetector(), ("AKC", "AP"), SECRET, True),
    # Then the forms around a value: headers, command lines, assignments, sentences.
    _Plugin(_CredentialHeader(), _CredentialHeader.triggers(), SECRET),
    _Plugin(_CommandLinePassword(), _CommandLinePassword.triggers(), PASSWORD),
    _Plugin(_Keywords(), _ASSIGNMENT_KEYS, _kind_of_key, needs_assignment=True),
    _Plugin(_MoreKeywords(), _MoreKeywords.triggers(), _kind_of_key, needs_assignment=True),
    _Plugin(_MarkupPassword(), _MarkupPassword.triggers(), _kind_of_key),
    _Plugin(_SpokenPassword(), _SpokenPassword.triggers(), PASSWORD),
)
_TOKEN_PLUGINS = tuple(plugin for plugin in _PLUGINS if plugin.finds_tokens)
_OTHER_PLUGINS = tuple(plugin for plugin in _PLUGINS if not plugin.finds_tokens)


def _fewest(triggers: Iterable[str]) -> tuple[str, ...]:
    """The triggers that hold no other: a text holds one of these where it holds any."""
    unique = set(triggers)
    return tuple(sorted(t for t in unique if not any(u != t and u in t for u in unique)))


# For one test of the whole text before the plugins' own.
_OTHER_TRIGGERS = _fewest(t for plugin in _OTHER_PLUGINS for t in plugin.triggers)
# A key with its closing quote and its ":" or "=", as KeywordDetector's patterns and ours
# want them, looked for back from each ":" and "=" (a line holds few; the letters a key
# starts with are everywhere); and `"x" == password`, a key after "==".
_KEY_BEFORE = re.compile(
    r"(?:pass|pw|pin|secret|key|token|cred|contrase|kennwort|auth)[\w-]{0,40}[\"'\]`]{0,2}"
    r"\s{0,8}[:=]"
)
_KEY_AFTER = re.compile(r"=\s*[\w-]*(?:pass|pw|secret|key)")
_KEY_REACH = 60  # characters from the start of a key to its ":" or "="
# Characters before a key root that a pattern may need ("database_" of "database_pass"),
# or before the "==" of `"x" == password`.
_KEY_CONTEXT = 12
_COMPARISON_CONTEXT = 40
# A KeywordDetector pattern finds the first assignment of its shape; each pass over the
# rest of the line finds one more.
_MAX_PASSES = 20

# Characters of keys and tokens: the UTF-8 bytes of a text with each of them turned into
# "t", so that a C substring search finds the runs a token could be.
_TOKEN_CHARS = "+/=_-."
_TOKEN_BYTES = bytes(
    ord("t") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in _TOKEN_CHARS) else ord(" ")
    for b in range(256)
)
_TOKEN_RUN_MIN = 20
_TOKEN_RUN = b"t" * _TOKEN_RUN_MIN


def _token_run(text: str) -> int:
    """Where the first run of _TOKEN_RUN_MIN token characters starts in the UTF-8 bytes of
    `text`, or -1."""
    if len(text) < _TOKEN_RUN_MIN:
        return -1
    return text.encode().translate(_TOKEN_BYTES).find(_TOKEN_RUN)


def _plugin_secrets(text: str, report: RedactionReport, has_token_run: bool) -> str:
    lowered = text.lower()
    candidates = _TOKEN_PLUGINS if has_token_run else ()
    if any(map(lowered.__contains__, _OTHER_TRIGGERS)):
        candidates += _OTHER_PLUGINS
    if not candidates:
        return text
    plugins = _triggered(candidates, text, lowered)
    if not plugins:
        return text
    if "\n" not in text:
        for plugin in plugins:
            text = _apply(plugin, text, report)
        return text
    lines = text.split("\n")
    for number, line in enumerate(lines):
        for plugin in _triggered(plugins, line, line.lower()):
            line = _apply(plugin, line, report)
        lines[number] = line
    return "\n".join(lines)


def _triggered(plugins: Iterable[_Plugin], line: str, lowered: str) -> list[_Plugin]:
    assignment: bool | None = None
    triggered = []
    for plugin in plugins:
        if not any(map((line if plugin.finds_tokens else lowered).__contains__, plugin.triggers)):
            continue
        if plugin.needs_assignment:
            if assignment is None:
                assignment = _next_key(lowered, 0) >= 0
            if not assignment:
                continue
        triggered.append(plugin)
    return triggered


def _next_key(lowered: str, start: int) -> int:
    """Where the patterns of an assignment should start to find the first key at or after
    `start` with its ":" or "=", or -1 where there is none."""
    at = start
    while True:
        colon, equals = lowered.find(":", at), lowered.find("=", at)
        sep = colon if equals < 0 or 0 <= colon < equals else equals
        if sep < 0:
            return -1
        key = _KEY_BEFORE.search(lowered, max(start, sep - _KEY_REACH), sep + 1)
        if key is not None:
            return max(start, key.start() - _KEY_CONTEXT)
        if _KEY_AFTER.match(lowered, sep + 1):
            return max(start, sep - _COMPARISON_CONTEXT)
        at = sep + 1


def _apply(plugin: _Plugin, line: str, report: RedactionReport) -> str:
    resume = 0
    for _ in range(_MAX_PASSES):
        # From a little before the next key on: the patterns cost a step per character.
        if plugin.needs_assignment and (resume := _next_key(line.lower(), resume)) < 0:
            return line
        values = {
            value
            for value in plugin.detector.analyze_string(line[resume:])
            if value and not _PLACEHOLDER.fullmatch(value) and not _is_reference(value)
        }
        if not values:
            return line
        line, first_end = _replace_values(line, resume, values, plugin, report)
        if first_end < 0:
            return line
        resume = first_end
    return line


def _is_reference(value: str) -> bool:
    """`<your password>`, `{password}`, `${DB_PASSWORD}`, and MySQL's "(using password:
    YES)": a reference to a secret or a flag, not a secret."""
    if len(value) > 1 and is_templated_secret(value):
        return True
    return value.strip("()[]{}.,;:'\"").lower() in _FLAGS


_FLAGS = {"yes", "no", "true", "false", "none", "null", "required", "optional"}


def _replace_values(
    line: str, start: int, values: set[str], plugin: _Plugin, report: RedactionReport
) -> tuple[str, int]:
    """`line` with each of `values` (found from `start` on) replaced, and where the first
    replacement ends (-1 where none was made)."""
    first_end = -1
    for value in sorted(values, key=len, reverse=True):
        at = line.find(value, start)
        while at >= 0:
            begin, end = _value_span(line, at, at + len(value), plugin.finds_tokens)
            if end < 0 or (plugin.finds_tokens and end - begin < _TOKEN_RUN_MIN):
                at = line.find(value, at + 1)
                continue
            kind = plugin.kind if isinstance(plugin.kind, str) else plugin.kind(line, begin)
            new = placeholder(kind)
            report.add(kind)
            line = line[:begin] + new + line[end:]
            if first_end < 0 or begin + len(new) < first_end:
                first_end = begin + len(new)
            at = line.find(value, begin + len(new))
    return line, first_end


_SHORT_VALUE = 4  # characters; a value this short is replaced only where it stands alone
_TOKEN_CHAR = re.compile(r"[\w+/=-]")
_TOKEN_REST = re.compile(r"[\w+/=-]*")


def _value_span(line: str, begin: int, end: int, widen: bool) -> tuple[int, int]:
    """The span to replace for a value found at `begin:end`, or (-1, -1) for a short value
    inside a longer word ("pin: 12" and "version 12.4"). A token is widened to the whole
    token around it: a plugin's pattern may stop short (GitHubTokenDetector takes 36
    characters after `ghp_`, and gives back only the `ghp`); the caller skips a widened
    span too short to be a token ("ghost")."""
    if widen:
        # Not left over "=": that is the key's, and "=" ends base64 rather than starts it.
        while begin and (line[begin - 1].isalnum() or line[begin - 1] in "_+/-"):
            begin -= 1
        return begin, _TOKEN_REST.match(line, end).end()  # type: ignore[union-attr]  # * always matches
    if end - begin < _SHORT_VALUE:
        before = line[begin - 1] if begin else " "
        after = line[end] if end < len(line) else " "
        if _TOKEN_CHAR.match(before) or _TOKEN_CHAR.match(after) or "." in (before, after):
            return -1, -1
    return begin, end


# --- private keys ----------------------------------------------------------------------------

_PRIVATE_KEY_MARKERS = _PrivateKeyMarkers()
_KEY_DASHES = "-----"


def _private_keys(text: str, report: RedactionReport) -> str:
    """Each key block from its BEGIN marker to its END marker (PuTTY: to its Private-MAC
    line), or to the end of the text when it was pasted cut off."""
    while markers := list(_PRIVATE_KEY_MARKERS.analyze_string(text)):
        at = min(text.find(marker) for marker in markers)
        marker = next(m for m in markers if text.startswith(m, at))
        begin = at - len(_KEY_DASHES) if text[:at].endswith(_KEY_DASHES) else at
        end = _key_block_end(text, at, marker)
        text = text[:begin] + placeholder(SECRET) + text[end:]
        report.add(SECRET)
    return text


def _key_block_end(text: str, at: int, marker: str) -> int:
    lowered = text.lower()
    if marker.lower().startswith("putty"):
        mac = lowered.find("private-mac:", at)
        if mac < 0:
            return len(text)
        line_end = text.find("\n", mac)
        return len(text) if line_end < 0 else line_end
    closing = "end" + marker.lower()[len("begin") :]
    found = lowered.find(closing, at)
    if found < 0:
        return len(text)
    end = found + len(closing)
    return end + len(_KEY_DASHES) if text.startswith(_KEY_DASHES, end) else end


# --- URLs ------------------------------------------------------------------------------------
# Ours: detect-secrets' BasicAuthDetector needs a user name ("redis://:pw@host" has none)
# and gives the password only, not the URL around it.

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s<>\"'`]+")
_URL_SCHEME_MAX = 16  # characters of a scheme before its "://"
# The user may be empty ("redis://:pw@host") or an e-mail address written unencoded.
_URL_USERINFO = re.compile(r"://[^/\s:]*:[^/\s@]+@")
_SECRET_PARAM = re.compile(
    r"[?&#;](?:access_token|refresh_token|id_token|token|auth|key|api_key|apikey|"
    r"secret|client_secret|password|passwd|pwd|sig|signature|x-amz-signature|"
    r"x-amz-credential|session|sessionid|code)=[^&#\s]",
    re.IGNORECASE,
)


def _urls(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        url = match.group(0)
        if _URL_USERINFO.search(url) or _SECRET_PARAM.search(url):
            report.add(URL_WITH_SECRET)
            return placeholder(URL_WITH_SECRET)
        return None

    start = max(0, text.find("://") - _URL_SCHEME_MAX)
    return _rewrite(_URL, text, start, replace)


# --- e-mail ----------------------------------------------------------------------------------
# Ours: email-validator and the parsers check one address, they do not find them in text.
# `\w` is Unicode: "jörg.müller@bücher.de" and "用户@例子.广告" are addresses.

_EMAIL = re.compile(
    r"[\w.%+'-]+@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)(?![\w-])"
)


def _emails(text: str, report: RedactionReport) -> str:
    at = text.find("@")
    # The name before "@" holds no space or line break.
    start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
    return _replace_all(_EMAIL, text, start, EMAIL, report)


# --- MAC and IP addresses --------------------------------------------------------------------
# Ours: none of the libraries above finds addresses in text; ipaddress checks a candidate.
# Hex-only forms ("aa:bb:cc:dd:ee:ff", "dead:beef::1") hold no digit, so these run before
# the test for digits.

_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|"
    r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:-]|\.\w)"  # "." may end a sentence
)
# Starts with a literal dot, so the engine jumps from dot to dot: a cheap gate for "1a2b.3c4d.5e6f".
_DOTTED_HEX = re.compile(r"\.[0-9A-Fa-f]{4}\.")
# The dotted quad is tried before a last hex group: "::ffff:192.168.1.10" is one address.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|[0-9A-Fa-f]{1,4})?"
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
# A dotted quad right after these words is a version, not an address.
_VERSION_ROOTS = ("ver", "release", "build", "kernel", "firmware")
_VERSION_WORDS = re.compile(
    r"\b(?:version|ver\.?|release|build|kernel|firmware)\s*$", re.IGNORECASE
)
_DIGITS = b"0123456789"
_DIGITS_AS_ZERO = bytes.maketrans(_DIGITS, b"0" * len(_DIGITS))


def _addresses(text: str, report: RedactionReport) -> str:
    colons, dots = text.count(":"), text.count(".")
    if colons < 2 and dots < 2 and "-" not in text:
        return text  # no MAC, IPv6 or IPv4 address can be in it
    if (start := _mac_start(text, colons, dots)) >= 0:
        text = _replace_all(_MAC, text, start, MAC, report)
    if colons >= 2 and (colon := _IPV6_COLON.search(text)) is not None:
        text = _ipv6(text, max(0, colon.start() - _IPV6_GROUP_MAX), report)
    # An address's first dot has a digit on each side: "0.0" once digits are all "0".
    if dots >= 3:
        encoded = text.encode()
        if (dotted := encoded.translate(_DIGITS_AS_ZERO).find(b"0.0")) >= 0:
            # Byte and character positions agree only for ASCII text.
            start = max(0, dotted - 2) if len(encoded) == len(text) else 0
            text = _ipv4(text, start, report)
    return text


def _mac_start(text: str, colons: int, dots: int) -> int:
    """Where the first MAC address could start, or -1 where none can be."""
    starts = []
    if colons >= 5:
        starts.append(text.find(":") - 2)
    if text.count("-") >= 5:
        starts.append(text.find("-") - 2)
    if dots >= 2 and (dotted := _DOTTED_HEX.search(text)) is not None:
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


# --- numbers: cards, IBANs, national ids, phones ---------------------------------------------

# Candidates only; python-stdnum and phonenumbers decide.
# Groups apart by a space or two (a no-break space too), a dot or a dash.
_CARD_RUN = re.compile(r"(?<![\w.,-])\d{2,}(?:[\s.-]{0,2}\d){11,}")
_CARD_GROUP = re.compile(r"\d+")
_CARD_LENGTHS = range(13, 20)
_CARD_FIRST_DIGITS = "23456"  # Mastercard 2/5, Amex and Diners 3, Visa 4, Discover 6
_IBAN_RUN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,31}")
_IBAN_GROUP = re.compile(r"[A-Za-z0-9]+")
_IBAN_LENGTH_MIN = 15  # Norway's
_IBAN_LENGTH_MAX = 34
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
# Nine digits in a row are an SSN only right after the word for it.
_SSN_BARE = re.compile(r"(?:ssn|social security(?: number| no\.?)?)\W{0,3}(\d{9})(?!\d)", re.I)
# Every run of digits and separators that could hold a phone number, for phonenumbers.
_PHONE_RUN = re.compile(r"[+(]*\d[\d \t().\-/]*\d\)?")
_PHONE_DIGITS_MIN = 7
# Characters on each side of a run that phonenumbers sees: enough for its own tests of the
# context ("2023-11-15 10" is a date when ":42" follows).
_PHONE_CONTEXT = 16
_DEFAULT_PHONE_REGIONS = ("US",)


def _numbers(text: str, report: RedactionReport, regions: Sequence[str] | None) -> str:
    if _digit_count(text.encode()) >= min(_CARD_LENGTHS):
        text = _cards(text, report)
    text = _ibans(text, report)
    if "-" in text or " " in text:
        text = _replace_valid(_SSN, text, _is_ssn, NATIONAL_ID, report)
    lowered = text.lower()
    if "ssn" in lowered or "social security" in lowered:
        text = _replace_valid(_SSN_BARE, text, _is_ssn, NATIONAL_ID, report, group=1)
    if _digit_count(text.encode()) >= _PHONE_DIGITS_MIN:
        text = _phones(text, _phone_regions(regions), report)
    return text


def _is_ssn(number: str) -> bool:
    return ssn.is_valid(number.replace(" ", ""))  # stdnum takes "-" and no separator, not " "


def _cards(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        run = match.group(0)
        spans = list(_groups_passing(run, _CARD_GROUP, _is_card, max(_CARD_LENGTHS)))
        if not spans:
            return None
        report.add(CARD, len(spans))
        return _replace_spans(run, spans, placeholder(CARD))

    return _rewrite(_CARD_RUN, text, 0, replace)


def _is_card(digits: str) -> bool:
    return (
        len(digits) in _CARD_LENGTHS and digits[0] in _CARD_FIRST_DIGITS and luhn.is_valid(digits)
    )


def _ibans(text: str, report: RedactionReport) -> str:
    def replace(match: re.Match) -> str | None:
        run = match.group(0)
        # An IBAN starts with its country: only the groups from the first one on.
        spans = list(_groups_passing(run, _IBAN_GROUP, _is_iban, _IBAN_LENGTH_MAX, from_first=True))
        if not spans:
            return None
        report.add(IBAN)
        return _replace_spans(run, spans, placeholder(IBAN))

    return _rewrite(_IBAN_RUN, text, 0, replace)


def _is_iban(compact: str) -> bool:
    return len(compact) >= _IBAN_LENGTH_MIN and iban.is_valid(compact.upper())


def _groups_passing(
    run: str,
    group: re.Pattern,
    valid: Callable[[str], bool],
    longest: int,
    from_first: bool = False,
) -> Iterable[tuple[int, int]]:
    """Spans of consecutive groups of `run` ("4111", "1111", ...) that pass `valid` joined
    (`longest` characters at most), the longest from each first group: a card followed by
    its expiry year is still found."""
    groups = [(m.start(), m.end(), m.group(0)) for m in group.finditer(run)]
    first = 0
    while first < len(groups):
        found = None
        joined = ""
        for last in range(first, len(groups)):
            joined += groups[last][2]
            if len(joined) > longest:
                break
            if valid(joined):
                found = last
        if found is not None:
            yield groups[first][0], groups[found][1]
            first = found + 1
        elif from_first:
            return
        else:
            first += 1


def _replace_spans(text: str, spans: list[tuple[int, int]], new: str) -> str:
    for begin, end in reversed(spans):
        text = text[:begin] + new + text[end:]
    return text


def _replace_valid(
    pattern: re.Pattern,
    text: str,
    valid: Callable[[str], bool],
    kind: str,
    report: RedactionReport,
    group: int = 0,
) -> str:
    def replace(match: re.Match) -> str | None:
        if not valid(match.group(group)):
            return None
        report.add(kind)
        whole = match.group(0)
        begin, end = match.start(group) - match.start(), match.end(group) - match.start()
        return whole[:begin] + placeholder(kind) + whole[end:]

    return _rewrite(pattern, text, 0, replace)


def _phones(text: str, regions: tuple[str, ...], report: RedactionReport) -> str:
    """Each window of text that could hold a number given to PhoneNumberMatcher for each
    region in turn: a number in "+" form is found by the first, a national one by its own
    country's."""
    pieces = []
    done = 0
    for begin, end in _phone_windows(text):
        window = text[begin:end]
        for region in regions:
            window = _phones_in(window, region, report)
            if _digit_count(window.encode()) < _PHONE_DIGITS_MIN:
                break
        pieces += [text[done:begin], window]
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """Each run of digits that could be a number with _PHONE_CONTEXT characters on each
    side, windows that overlap merged into one: a number is never cut in two."""
    windows: list[tuple[int, int]] = []
    for run in _PHONE_RUN.finditer(text):
        if _digit_count(run.group(0).encode()) < _PHONE_DIGITS_MIN:
            continue
        begin = max(0, run.start() - _PHONE_CONTEXT)
        end = min(len(text), run.end() + _PHONE_CONTEXT)
        if windows and begin <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((begin, end))
    return windows


def _phones_in(window: str, region: str, report: RedactionReport) -> str:
    matches = list(phonenumbers.PhoneNumberMatcher(window, region))
    for match in reversed(matches):
        window = window[: match.start] + placeholder(PHONE) + window[match.end :]
        report.add(PHONE)
    return window


def _phone_regions(regions: Sequence[str] | None) -> tuple[str, ...]:
    if regions is None:
        regions = getattr(settings, "REDACTION_PHONE_REGIONS", _DEFAULT_PHONE_REGIONS)
    return _checked_regions(tuple(region.upper() for region in regions))


@cache
def _checked_regions(regions: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [region for region in regions if region not in phonenumbers.SUPPORTED_REGIONS]
    if unknown or not regions:
        raise ImproperlyConfigured(
            f"REDACTION_PHONE_REGIONS must be ISO 3166 country codes phonenumbers knows "
            f"(e.g. US,GB,DE,FR), got {','.join(regions)!r}"
        )
    return regions


# --- high-entropy strings --------------------------------------------------------------------

_BASE64_ENTROPY = Base64HighEntropyString()
_HEX_ENTROPY = HexHighEntropyString()
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{" + str(_TOKEN_RUN_MIN) + ",}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def _high_entropy(text: str, report: RedactionReport) -> str:
    """What is left that looks random to detect-secrets' entropy plugins, in any context:
    pasted tokens are rarely quoted, as the plugins' own line scan expects."""
    if (run := _token_run(text)) < 0:
        return text
    # Byte and character positions agree only for ASCII text.
    start = run if text.isascii() else 0
    return _replace_all(_LONG_TOKEN, text, start, SECRET, report, keep=_not_random)


def _not_random(token: str) -> bool:
    if is_sequential_string(token) or is_potential_uuid(token):
        return True
    if _HEX.fullmatch(token):
        if token.isdigit():
            return True  # a long number: cards and phones are handled above
        return _HEX_ENTROPY.calculate_shannon_entropy(token) <= _HEX_ENTROPY.entropy_limit
    # Registry paths and long names ("HKEY_LOCAL_MACHINE/SOFTWARE/Microsoft") reach the
    # entropy limit too; keys and tokens in base64 hold digits.
    if not any(ch.isdigit() for ch in token):
        return True
    return _BASE64_ENTROPY.calculate_shannon_entropy(token) <= _BASE64_ENTROPY.entropy_limit


# --- shared ----------------------------------------------------------------------------------

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
    pattern: re.Pattern,
    text: str,
    start: int,
    kind: str,
    report: RedactionReport,
    keep: Callable[[str], bool] | None = None,
) -> str:
    def replace(match: re.Match) -> str | None:
        if keep is not None and keep(match.group(0)):
            return None
        report.add(kind)
        return placeholder(kind)

    return _rewrite(pattern, text, start, replace)


def _digit_count(encoded: bytes) -> int:
    # Deleting digits from the UTF-8 bytes is the cheapest count Python offers (under 1 us).
    return len(encoded) - len(encoded.translate(None, _DIGITS))
