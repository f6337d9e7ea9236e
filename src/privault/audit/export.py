"""Exports an auditor verifies with no database: ``privault audit verify --from DIR``.

Layout of an export directory:

``entries.jsonl``
    One line per entry, in sequence order, each the canonical JSON of
    ``{"entry": <body>, "hash": <hex>, "prev": <hex>, "seq": <n>}``.  Since ``body`` is
    itself canonical, re-canonicalising the parsed ``entry`` member gives back the
    exact bytes that were hashed.
``checkpoints.jsonl``
    One line per signed checkpoint: ``at``, ``hash``, ``public_key`` (raw Ed25519,
    hex), ``seq``, ``signature`` (hex), ``v``.
``manifest.json``
    Format name and version, counts, the last sequence number and head hash, and the
    vault's public signing key.  Not signed: verify trusts the checkpoints, and uses
    the manifest only to notice entries cut off the end of ``entries.jsonl``.

An auditor should compare the public key with one published out of band and pass it
with ``--public-key``; otherwise the report lists the keys it found.

An independent check needs nothing from privault (here in Python)::

    prev, signed = bytes(32), {}
    for line in open("checkpoints.jsonl"):
        c = json.loads(line)
        msg = canon({"at": c["at"], "hash": c["hash"], "seq": c["seq"],
                     "type": "privault.audit.checkpoint", "v": 1})
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(PINNED_KEY)).verify(
            bytes.fromhex(c["signature"]), msg)
        signed[c["seq"]] = c["hash"]
    for n, line in enumerate(open("entries.jsonl"), 1):
        e = json.loads(line)
        assert e["seq"] == n
        prev = hashlib.sha256(prev + canon(e["entry"])).digest()
        assert prev.hex() == e["hash"] and signed.get(n, e["hash"]) == e["hash"]
    assert max(signed, default=0) <= n

where ``canon(v) = json.dumps(v, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()``.
"""

from __future__ import annotations

import binascii
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy import Connection

from privault.audit.blocks import HEAD, LINE, TAIL, parse_lines, read_lines
from privault.audit.canonical import canonical_json, format_time, parse_time
from privault.audit.chain import Checkpoint, read_checkpoints, read_head
from privault.audit.parallel import Blocks, Parallel, Workers, join_answer, signed_pairs
from privault.audit.stream import BlockReader
from privault.audit.verify import ChainVerifier, VerifyReport
from privault.errors import N_, InvalidInput

FORMAT: Final[str] = "privault-audit-export"
ENTRIES_FILE: Final[str] = "entries.jsonl"
CHECKPOINTS_FILE: Final[str] = "checkpoints.jsonl"
MANIFEST_FILE: Final[str] = "manifest.json"
EXPORT_BLOCK: Final[int] = 16_384  # entries
HOW_TO_VERIFY: Final[str] = (
    "body = RFC 8785 canonical JSON of 'entry'; hash(n) = SHA-256(hash(n-1) || body(n)), "
    "hash(0) = 32 zero bytes; checkpoints: Ed25519 over canonical JSON of "
    "{at, hash, seq, type: 'privault.audit.checkpoint', v: 1}"
)


@dataclass(frozen=True, slots=True)
class ExportReport:
    directory: str
    entries: int
    last_seq: int
    head_hash: str
    checkpoints: int

    def as_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "entries": self.entries,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
        }


def _prepare(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InvalidInput(
            N_("%(path)s exists and is not an empty directory; choose a new one."),
            path=str(directory),
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def export_snapshot(
    connection: Connection,
    directory: Path,
    *,
    public_key: bytes | None,
    at: datetime,
    vault_id: str | None = None,
) -> ExportReport:
    """Write the chain as of ``connection``'s snapshot (see ``chain.snapshot``)."""
    _prepare(directory)
    head = read_head(connection)
    checkpoints = read_checkpoints(connection)
    count, last, prev = 0, 0, bytes(32)
    reader = BlockReader(connection)
    bounds = reader.bounds()
    with (directory / ENTRIES_FILE).open("wb") as out:
        lo, stop = (min(bounds[0], 1) - 1, bounds[1]) if bounds is not None else (0, 0)
        while lo < stop:  # a block of sequence numbers at a time: memory stays flat
            hi = min(lo + EXPORT_BLOCK, stop)
            seqs, hashes, bodies, prevs = reader.columns(lo, hi)
            out.writelines(
                [
                    HEAD
                    + body
                    + TAIL % (digest.hex().encode(), prev_hash.hex().encode(), seq)
                    + b"\n"
                    for seq, digest, body, prev_hash in zip(
                        seqs, hashes, bodies, prevs, strict=True
                    )
                ]
            )
            if seqs:
                count, last, prev = count + len(seqs), seqs[-1], hashes[-1]
            lo = hi
    with (directory / CHECKPOINTS_FILE).open("w", encoding="utf-8") as out:
        out.writelines(canonical_json(c.as_json()) + "\n" for c in checkpoints)
    manifest = {
        "format": FORMAT,
        "v": 1,
        "exported_at": format_time(at),
        "entries": count,
        "last_seq": head[0] if head else last,
        "head_hash": (head[1] if head else prev).hex(),
        "checkpoints": len(checkpoints),
        "public_key": public_key.hex() if public_key is not None else None,
        "vault_id": vault_id,
        "how_to_verify": HOW_TO_VERIFY,
    }
    (directory / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return ExportReport(str(directory), count, last, prev.hex(), len(checkpoints))


def _columns(
    found: list[tuple[bytes, bytes, bytes, bytes]],
) -> tuple[list[int], list[bytes], list[bytes], list[bytes]]:
    unhex = binascii.unhexlify
    return (
        [int(f[3]) for f in found],
        [unhex(f[1]) for f in found],
        [f[0] for f in found],
        [unhex(f[2]) for f in found],
    )


def _load_checkpoint(text: str) -> Checkpoint:
    data = json.loads(text)
    return Checkpoint(
        int(data["seq"]),
        bytes.fromhex(data["hash"]),
        parse_time(data["at"]),
        bytes.fromhex(data["public_key"]),
        bytes.fromhex(data["signature"]),
    )


def verify_export(
    directory: Path,
    trusted_keys: Collection[bytes] | None = None,
    *,
    parallel: Parallel | None = None,
) -> VerifyReport:
    """Verify an export directory; ``trusted_keys`` pins the checkpoint signing keys."""
    manifest_path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(manifest_path)
        head = (int(manifest["last_seq"]), bytes.fromhex(manifest["head_hash"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidInput(
            N_("%(path)s is not a privault audit export."), path=str(directory)
        ) from None
    checkpoints: list[Checkpoint] = []
    bad_checkpoint_line: int | None = None
    cp_path = directory / CHECKPOINTS_FILE
    texts = cp_path.read_text(encoding="utf-8").splitlines() if cp_path.exists() else []
    for number, text in enumerate(texts, 1):
        try:
            checkpoints.append(_load_checkpoint(text))
        except (ValueError, KeyError, TypeError):
            bad_checkpoint_line = bad_checkpoint_line or number
    verifier = ChainVerifier(checkpoints, trusted_keys)
    if bad_checkpoint_line is not None:
        verifier.fail_malformed(bad_checkpoint_line, seq=0)
        return verifier.finish()
    entries_path = directory / ENTRIES_FILE
    if not entries_path.exists():
        verifier.fail_malformed(0)
        return verifier.finish()
    with entries_path.open("rb") as source:
        _verify_lines(source, str(entries_path), verifier, parallel or Parallel.export_bytes())
    return verifier.finish(head)


def _verify_lines(source: BinaryIO, path: str, verifier: ChainVerifier, parallel: Parallel) -> None:
    """Blocks of bytes, each holding the lines that start in it; the front ones here,
    the back ones by workers if the file is large (see ``privault.audit.parallel``)."""
    size = os.fstat(source.fileno()).st_size
    step = parallel.block

    def span(index: int) -> tuple[int, int]:
        return index * step, min((index + 1) * step, size)

    blocks = Blocks(-(-size // step))
    workers: Workers | None = None
    if parallel.workers > 0 and size >= parallel.minimum and blocks.count > 1:
        task = {"source": "export", "target": path, "signed": signed_pairs(verifier.signed.pairs())}
        workers = Workers(parallel.workers, task, blocks, span)
    try:
        number = 0  # lines before the block
        for index in iter(blocks.take_front, None):
            lines, _ = read_lines(source, *span(index))
            if not _take_lines(verifier, lines, number):
                return
            if workers is not None:
                verifier.check_from_the_end(number + 1, number + len(lines) + 1)
            number += len(lines)
        answers = workers.finish() if workers is not None else {}
        for index in range(blocks.back, blocks.count):
            answer = answers.get(index)
            if answer is not None and join_answer(verifier, answer):
                number += answer["count"]
                continue
            lines, _ = read_lines(source, *span(index))
            if not _take_lines(verifier, lines, number):
                return
            number += len(lines)
    finally:
        if workers is not None:
            workers.close()


def _take_lines(verifier: ChainVerifier, lines: list[bytes], number: int) -> bool:
    """Lines ``number + 1...`` of entries.jsonl (without newlines); False at a problem."""
    if not lines:
        return True
    parsed = parse_lines(lines, verifier.expected, verifier.prev.hex().encode())
    if parsed is not None and verifier.try_block(verifier.expected, *parsed):
        return True
    # Not clean, or not laid out exactly as export writes it: line by line.
    found = LINE.findall(b"\n".join(lines) + b"\n")
    if len(found) != len(lines):  # some line is not one of ours: which?
        bad = next(i for i, line in enumerate(lines) if not LINE.fullmatch(line + b"\n"))
        if not bad or verifier.feed_columns(*_columns(found[:bad])):
            verifier.fail_malformed(number + bad + 1)
        return False
    return verifier.feed_columns(*_columns(found))
