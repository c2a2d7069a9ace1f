"""Signatures per second: lettr's DKIM signer against dkimpy's, side by side in one run.

Both sign the same ~4 KB campaign message with the same RSA-2048 key, relaxed/relaxed, over
the same header list. Raw RSA-2048 signing through ``cryptography`` is shown as the ceiling.
The signers take turns in short rounds, so a change in the machine's load touches all alike.
Not run by CI. Needs the test extra (dkimpy):

    pip install -e '.[bench,test]' && python bench/dkim_sign.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from lettr_cli.domains.dkim import sign_message
from lettr_cli.domains.keys import DkimKey, generate_key_pair, load_private_key
from lettr_cli.domains.records import dkim_value


def campaign_message() -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Example News <news@example.com>"
    msg["To"] = "ann@example.org"
    msg["Subject"] = "Größere Rabatte für Sie – diese Woche"
    msg["Date"] = "Thu, 26 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = "<c1.r42@example.com>"
    msg["List-Unsubscribe"] = "<https://t.example.com/u/abcdef>, <mailto:unsub@example.com>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Id"] = "Weekly <weekly.example.com>"
    msg["Feedback-ID"] = "c1:weekly:lettr"
    paragraph = "Hello Ann, this week's offers are below. Click through to read more.  \n"
    msg.set_content(paragraph * 20)
    msg.add_alternative(f"<html><body><p>{paragraph * 20}</p></body></html>\n", subtype="html")
    return msg.as_bytes()


def interleaved(
    signers: dict[str, Callable[[], object]], seconds: float, round_seconds: float = 0.2
) -> dict[str, tuple[int, float]]:
    """Signatures made and time spent by each signer, taking turns for ``seconds`` each."""
    totals = dict.fromkeys(signers, (0, 0.0))
    for work in signers.values():
        work()  # warm up (key loading, imports)
    for _ in range(max(1, round(seconds / round_seconds))):
        for name, work in signers.items():
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < round_seconds:
                work()
                count += 1
            done, spent = totals[name]
            totals[name] = (done + count, spent + elapsed)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per signer")
    args = parser.parse_args()

    pair = generate_key_pair()
    key = DkimKey("example.com", "lettr", pair.private_pem)
    message = campaign_message()
    ours = sign_message(message, key)
    signed_names = (
        ours.split(b"h=")[1].split(b";")[0].replace(b"\r\n", b"").replace(b" ", b"").split(b":")
    )
    record = dkim_value(pair.public_key).encode()

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes:
        return record

    def dkimpy_sign() -> bytes:
        header: bytes = dkim.sign(
            message,
            b"lettr",
            b"example.com",
            pair.private_pem.encode(),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=signed_names,
        )
        return header + message

    assert dkim.verify(ours, dnsfunc=dnsfunc), "lettr's signature does not verify"
    assert dkim.verify(dkimpy_sign(), dnsfunc=dnsfunc), "dkimpy's signature does not verify"

    private = load_private_key(pair.private_pem)
    digest = hashlib.sha256(message).digest()

    def raw_rsa() -> bytes:
        return private.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))

    print(f"message: {len(message)} bytes, RSA-2048, relaxed/relaxed, h={len(signed_names)} names")
    totals = interleaved(
        {
            "lettr signer": lambda: sign_message(message, key),
            "dkimpy dkim.sign": dkimpy_sign,
            "raw RSA-2048 (the ceiling)": raw_rsa,
        },
        args.seconds,
    )
    rates = {name: done / spent for name, (done, spent) in totals.items()}
    for name, (done, spent) in totals.items():
        print(f"{name:28} {rates[name]:7.0f} signatures/s  ({done} in {spent:.1f} s)")
    lettr_rate, dkimpy_rate, raw_rate = rates.values()
    print(f"ratio lettr/dkimpy: {lettr_rate / dkimpy_rate:.1f}x")
    print(f"lettr reaches {lettr_rate / raw_rate:.0%} of raw RSA")


if __name__ == "__main__":
    main()
