"""DCSA Platform Interoperability (PINT 3.0): envelopes, transfer chains and title rules.

Pure logic (no store, no network): :mod:`~gateway.pint.codes` (action and response codes),
:mod:`~gateway.pint.checksums` (RFC 8785 / SHA-256 checksums), :mod:`~gateway.pint.schema`
(the official envelope schema, compiled once), :mod:`~gateway.pint.chain` (verify an
envelope: manifest, chain, issuance manifest, signatures), :mod:`~gateway.pint.title` (who
possesses and holds the eBL after each transaction, and which transactions are allowed),
:mod:`~gateway.pint.build` (new chain entries and envelopes),
:mod:`~gateway.pint.stored` (read chains already verified: payloads, title, the carrier's
visualisation) and :mod:`~gateway.pint.responses` (signed ``EnvelopeTransferFinishedResponse``).
"""
