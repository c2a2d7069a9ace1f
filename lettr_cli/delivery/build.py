"""One outbox row to the bytes that go on the wire: rendered from the row's snapshot, with its
own tracking tokens, DKIM-signed when the sender's domain has a key, and an envelope sender that
carries a signed token so that a bounce finds its row (DESIGN "Messages")."""

from __future__ import annotations

from dataclasses import dataclass

from lettr_cli.audience.addresses import smtp_address
from lettr_cli.content.compose import Composer, Links
from lettr_cli.domains.keys import DkimKey
from lettr_cli.tracking.tokens import Purpose, Signer

BOUNCE_LOCAL_PART = "bounces"


@dataclass(frozen=True)
class Built:
    envelope_from: str
    recipient: str
    message: bytes


class MessageFactory:
    def __init__(
        self,
        composer: Composer,
        signer: Signer,
        dkim_key: DkimKey | None,
        bounce_domain: str,
    ) -> None:
        from lettr_cli.content.skeleton import Skeleton

        self.composer = composer
        self.skeleton = Skeleton.plan(composer)
        self.signer = signer
        self.dkim_key = dkim_key
        self.bounce_domain = bounce_domain

    def envelope_sender(self, row_id: int) -> str:
        token = self.signer.for_row(Purpose.BOUNCE, row_id)
        return f"{BOUNCE_LOCAL_PART}+{token}@{self.bounce_domain}"

    def build(self, row_id: int, email: str, values: dict[str, object]) -> Built:
        """The message for one row; raises ``ValidationError`` when its values cannot render."""

        def token(purpose: Purpose) -> str:
            return self.signer.for_row(purpose, row_id)

        recipient = smtp_address(email)
        message = None
        if self.skeleton is not None:
            message = self.skeleton.message(email, recipient, values, token)
        if message is None:
            links = Links(base_url=self.composer.sender.base_url, token_for=token)
            rendered = self.composer.render(email, values, links)
            message = self.composer.message_bytes(rendered, recipient, links, test=False)
        if self.dkim_key is not None:
            from lettr_cli.domains.dkim import sign_message

            message = sign_message(message, self.dkim_key)
        return Built(self.envelope_sender(row_id), recipient, message)
