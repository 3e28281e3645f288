import pytest
from django.core.exceptions import ImproperlyConfigured

from training.feedback.redaction import KINDS, RedactionReport, redact

# One or more of each kind, with the exact text that comes out. tests/feedback/test_export.py
# exports them all; the red-team corpus is tests/feedback/redaction_corpus.py.
CASES = [
    ("EMAIL", "Write to jane.doe+it@corp.example.co.uk today", "Write to [EMAIL] today"),
    ("EMAIL", "Mail jörg.müller@bücher.de", "Mail [EMAIL]"),
    ("IPV4", "The server at 192.168.10.254. is down", "The server at [IPV4]. is down"),
    ("IPV4", "route 10.0.0.0/8 via gateway", "route [IPV4] via gateway"),
    ("IPV6", "ping fe80::1ff:fe23:4567:890a%eth0 fails", "ping [IPV6] fails"),
    ("IPV6", "DNS is 2001:4860:4860::8888", "DNS is [IPV6]"),
    ("IPV6", "gw dead:beef::cafe up", "gw [IPV6] up"),
    ("IPV6", "client ::ffff:192.168.1.10 connected", "client [IPV6] connected"),
    ("MAC", "my card is 00:1A:2b:3C:4d:5E ok", "my card is [MAC] ok"),
    ("MAC", "cisco shows 001a.2b3c.4d5e", "cisco shows [MAC]"),
    ("MAC", "the MAC is aa:bb:cc:dd:ee:ff.", "the MAC is [MAC]."),
    ("PHONE", "call me on +44 20 7946 0958 please", "call me on [PHONE] please"),
    ("PHONE", "desk phone (415) 555-0132", "desk phone [PHONE]"),
    ("PHONE", "mobile 415-555-0132", "mobile [PHONE]"),
    ("PHONE", "Büro 030 12345678", "Büro [PHONE]"),
    ("CARD", "card 4111 1111 1111 1111 exp 12/26", "card [CARD] exp 12/26"),
    ("CARD", "amex 3782-822463-10005", "amex [CARD]"),
    ("IBAN", "IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please"),
    ("NATIONAL_ID", "my SSN is 123-45-6789", "my SSN is [NATIONAL_ID]"),
    (
        "URL_WITH_SECRET",
        "clone https://bob:hunter2@git.example.com/repo.git fails",
        "clone [URL_WITH_SECRET] fails",
    ),
    ("URL_WITH_SECRET", "REDIS_URL=redis://:r3dispw@cache01:6379/0", "REDIS_URL=[URL_WITH_SECRET]"),
    (
        "URL_WITH_SECRET",
        "see https://api.example.com/v1/items?id=3&access_token=abc123 there",
        "see [URL_WITH_SECRET] there",
    ),
    ("URL_WITH_SECRET", "GET http://h/x?key=zzz", "GET [URL_WITH_SECRET]"),
    ("PASSWORD", "password: Tr0ub4dor&3", "password: [PASSWORD]"),
    ("PASSWORD", '{"password": "hunter2"}', '{"password": "[PASSWORD]"}'),
    ("PASSWORD", "DB_PASSWORD=s3cr3tvalue", "DB_PASSWORD=[PASSWORD]"),
    ("PASSWORD", "mysql -u root pwd=s3cret", "mysql -u root pwd=[PASSWORD]"),
    ("PASSWORD", "mysql -u root -pS3cretPw! mydb", "mysql -u root -p[PASSWORD] mydb"),
    ("PASSWORD", "my new password is Winter2024!", "my new password is [PASSWORD]"),
    ("SECRET", "api_key = 'abcd1234efgh'", "api_key = '[SECRET]'"),
    (
        "SECRET",
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "export AWS_ACCESS_KEY_ID=[SECRET]",
    ),
    ("SECRET", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [SECRET]"),
    ("SECRET", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "token [SECRET] leaked"),
    (
        "SECRET",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Bearer [SECRET]",
    ),
    (
        "SECRET",
        "hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 here",
        "hash [SECRET] here",
    ),
    ("SECRET", "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9", "secret [SECRET]"),
    (
        "SECRET",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nthanks",
        "key:\n[SECRET]\nthanks",
    ),
]


@pytest.mark.parametrize(("kind", "text", "expected"), CASES)
def test_it_replaces_each_kind_with_its_placeholder(kind, text, expected):
    report = RedactionReport()

    assert redact(text, report) == expected
    assert report.counts[kind] >= 1


def test_the_cases_hold_every_kind():
    # The export's test with a pool counts every kind in them.
    assert {kind for kind, _text, _expected in CASES} == set(KINDS)


KEEP = [
    "I upgraded to Ubuntu 22.04 and then 24.04.1",
    "apt says version 1.2.3.4 is installed",
    "package libfoo 1.2.3.4-1ubuntu2 breaks",
    "999.10.1.1 is not an address",
    "the build finished at 12:30:45 on 2023-01-15",
    "use std::vector in C++",
    "see https://help.ubuntu.com/community/Wifi?action=show for details",
    "my password is expired, how do I reset it?",
    "the file is /usr/lib/x86_64-linux-gnu/libssl.so.3",
    "AbstractSingletonProxyFactoryBean2 threw",
    "uuid 123e4567-e89b-12d3-a456-426614174000 of the disk",
    "error 0x80070005 and ticket 1234567",
]


@pytest.mark.parametrize("text", KEEP)
def test_it_leaves_lookalikes_alone(text):
    report = RedactionReport()

    assert redact(text, report) == text
    assert report.total == 0


def test_it_counts_every_replacement_by_kind():
    report = RedactionReport()

    redact("a@b.io and c@d.io from 10.1.1.1", report)

    assert report.as_dict()["EMAIL"] == 2
    assert report.as_dict()["IPV4"] == 1
    assert report.as_dict()["PHONE"] == 0


def test_it_replaces_every_assignment_on_a_line():
    text = '{"password": "a1b2c3", "user": "bob", "secret": "d4e5f6", "pin": "4821"}'

    assert redact(text) == (
        '{"password": "[PASSWORD]", "user": "bob", "secret": "[SECRET]", "pin": "[PASSWORD]"}'
    )


def test_it_finds_national_phone_formats_of_the_configured_regions(settings):
    german = "Büro 030 12345678"

    settings.REDACTION_PHONE_REGIONS = ["US"]
    assert redact(german) == german
    assert redact("Büro +49 30 12345678") == "Büro [PHONE]"

    settings.REDACTION_PHONE_REGIONS = ["us", "de"]
    assert redact(german) == "Büro [PHONE]"
    assert redact(german, phone_regions=["FR"]) == german


def test_it_refuses_a_region_phonenumbers_does_not_know(settings):
    settings.REDACTION_PHONE_REGIONS = ["US", "XX"]

    with pytest.raises(ImproperlyConfigured, match="REDACTION_PHONE_REGIONS"):
        redact("call 415-555-0132")
