"""The import's address checker gives exactly what `check_address` (email-validator) gives."""

from __future__ import annotations

import contextlib

from email_validator import validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lettr_cli.addressing.addresses import Address, InvalidAddress, check_address
from lettr_cli.addressing.bulk_addresses import AddressChecker

LOCAL_ALPHABET = st.sampled_from(
    list("abcXYZ0189._+-") + list("!#$%&'*/=?^`{|}~\"(),:;<>@[\\] ") + ["é", "ß", "İ", "\u200b"]
)
LABEL_ALPHABET = st.sampled_from([*list("abcXYZ0189-_."), "é", "ü", "ß"])
DOMAINS = st.one_of(
    st.sampled_from(
        [
            "example.com",
            "Example.ORG",
            "EXAMPLE.NET",
            "bücher.example.org",
            "xn--bcher-kva.example.org",
            "localhost",
            "example.test",
            "mail.local",
            "example.123",
            "1.2.3.4",
            "[127.0.0.1]",
            "-bad.example.com",
            "bad-.example.com",
            "a..example.com",
            "example.com.",
            "ex_ample.com",
            "ab--cd.example.com",
            "xn--zz.example.com",
            "a" * 63 + ".example.com",
            "a" * 64 + ".example.com",
            ".".join(["b" * 63] * 3) + ".example.com",
            ".".join(["c" * 60] * 4) + ".com",
        ]
    ),
    st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(st.text(LABEL_ALPHABET, max_size=64), min_size=1, max_size=4),
        st.sampled_from(["com", "org", "Net", "c0m", "123", "xn--p1ai", "test", ""]),
    ),
)
# Plain-looking addresses on a few domains that the checker has seen before, so that the
# remembered-domain path is taken: dot-atoms with empty atoms (leading, trailing or doubled
# dots), long atoms, odd characters; domains long enough to bring addresses to the 254-octet
# limit.
LONG_ASCII = ".".join(["b" * 63, "c" * 63, "d" * 63]) + ".example.com"  # 203 characters
# An IDNA domain given in ASCII (179 octets) whose normalised, Unicode form is 182 octets long.
LONG_IDN = validate_email(
    "a@" + ".".join(["bücher" * 8] * 3) + ".example.org", check_deliverability=False
).ascii_domain
SEEN_DOMAINS = ["example.com", "EXAMPLE.com", "xn--bcher-kva.example.org", LONG_ASCII, LONG_IDN]
PLAIN_LOCALS = st.lists(
    st.text(st.sampled_from('aZ09_+-!é(" '), max_size=8) | st.text("x", min_size=40, max_size=70),
    min_size=1,
    max_size=3,
).map(".".join)
FEW_DOMAINS = st.sampled_from(
    [*SEEN_DOMAINS, "bücher.example.org", "localhost", "a" * 64 + ".example.com"]
)
ADDRESSES = st.one_of(
    st.builds(lambda local, domain: f"{local}@{domain}", PLAIN_LOCALS, FEW_DOMAINS),
    st.builds(
        lambda pad, local, domain: f"{pad}{local}@{domain}{pad}",
        st.sampled_from(["", " ", "\t"]),
        st.text(LOCAL_ALPHABET, max_size=70),
        DOMAINS,
    ),
    st.text(max_size=40),
)


def verdict(check: object, raw: str) -> tuple[str, Address | str]:
    assert callable(check)
    try:
        return "valid", check(raw)
    except InvalidAddress as exc:
        return "invalid", str(exc)


def seeded_checker() -> AddressChecker:
    checker = AddressChecker()
    for domain in SEEN_DOMAINS:
        checker.check(f"seed@{domain}")
    assert checker.remembered == frozenset(SEEN_DOMAINS)
    return checker


def at_the_limit(domain: str, octets: int) -> list[str]:
    """Addresses on ``domain`` whose longest form is 253 to 256 octets."""
    return [f"{'x' * (n - 1 - octets)}@{domain}" for n in range(253, 257)]


@settings(max_examples=500, deadline=None)
@given(st.lists(ADDRESSES, min_size=1, max_size=20))
@example(["ann@example.com", "Bob.Smith+tag@example.com", "x" * 64 + "@example.com"])
@example([".a@example.com", "a.@example.com", "a..b@example.com", "a@EXAMPLE.com"])
@example(at_the_limit(LONG_ASCII, 203))
@example(at_the_limit(LONG_IDN, 182))
@example(["a@xn--bcher-kva.example.org", "Postmaster@xn--bcher-kva.example.org"])
def test_the_checker_agrees_with_check_address(raws: list[str]) -> None:
    checker = seeded_checker()
    for raw in raws * 2:  # the second time round, more domains are remembered
        assert verdict(checker.check, raw) == verdict(check_address, raw), raw


def test_the_checker_remembers_domains_email_validator_accepted() -> None:
    checker = AddressChecker()
    checker.check("ann@example.com")
    for raw in ("bob@localhost", "not an address", "cé@example.org"):
        with contextlib.suppress(InvalidAddress):
            checker.check(raw)
    assert checker.remembered == frozenset({"example.com"})
    assert checker.check("Carl.Jones@example.com") == Address(
        "Carl.Jones@example.com", "carl.jones@example.com"
    )


def test_the_memory_of_domains_is_bounded() -> None:
    checker = AddressChecker(remember=3)
    for n in range(7):
        checker.check(f"a@d{n}.example.com")
    assert len(checker.remembered) <= 3
    assert checker.check("B@d6.example.com") == check_address("B@d6.example.com")
