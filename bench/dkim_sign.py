"""Signatures per second: lettr's DKIM signer against dkimpy's, side by side in one run.

Both sign the same ~4 KB campaign message with the same RSA-2048 key, relaxed/relaxed, over
the same header list. Raw RSA-2048 signing through ``cryptography`` is shown as the ceiling.
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


def rate(work: Callable[[], object], seconds: float) -> tuple[float, int]:
    work()  # warm up (key loading, imports)
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        work()
        count += 1
    return count / elapsed, count


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
    lettr_rate, lettr_n = rate(lambda: sign_message(message, key), args.seconds)
    dkimpy_rate, dkimpy_n = rate(dkimpy_sign, args.seconds)
    raw_rate, _ = rate(raw_rsa, args.seconds)
    print(f"lettr signer      {lettr_rate:9.0f} signatures/s  ({lettr_n} in {args.seconds:g} s)")
    print(f"dkimpy dkim.sign  {dkimpy_rate:9.0f} signatures/s  ({dkimpy_n} in {args.seconds:g} s)")
    print(f"raw RSA-2048      {raw_rate:9.0f} signatures/s  (cryptography, the ceiling)")
    print(f"ratio lettr/dkimpy: {lettr_rate / dkimpy_rate:.1f}x")
    print(f"lettr reaches {lettr_rate / raw_rate:.0%} of raw RSA")


if __name__ == "__main__":
    main()
