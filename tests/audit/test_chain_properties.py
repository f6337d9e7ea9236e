"""Hypothesis: any single edit, deletion, swap or truncation of a chain is detected.

Pure: chains are built in memory with the same functions the store uses, and fed to
the same verifier that checks databases and exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from privault.audit import Checkpoint, Reason, chain_hash
from privault.audit.canonical import GENESIS
from privault.audit.chain import sign_checkpoint
from privault.audit.verify import ChainVerifier, VerifyReport
from tests.audit.conftest import make_entry, new_keyring

KEYRING = new_keyring()
Row = tuple[int, bytes, bytes, bytes]  # seq, hash, body, prev


@dataclass
class Chain:
    rows: list[Row]
    checkpoints: list[Checkpoint]


def build(n: int, every: int) -> Chain:
    rows: list[Row] = []
    checkpoints: list[Checkpoint] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = make_entry(seq)
        body = entry.body(seq).encode()
        digest = chain_hash(prev, body)
        rows.append((seq, digest, body, prev))
        if seq % every == 0 or seq == n:
            checkpoints.append(sign_checkpoint(KEYRING, seq, digest, entry.at))
        prev = digest
    return Chain(rows, checkpoints)


def run(chain: Chain) -> VerifyReport:
    verifier = ChainVerifier(chain.checkpoints, {KEYRING.public_signing_key()})
    by_seq = {r[0]: r[3] for r in chain.rows}
    verifier.feed(((s, h, b) for s, h, b, _ in chain.rows), by_seq.get)
    return verifier.finish()


chains = st.builds(build, st.integers(1, 40), st.integers(1, 12))


@settings(max_examples=60)
@given(chains)
def test_untouched_chain_verifies(chain: Chain) -> None:
    report = run(chain)
    assert report.ok, report.problem
    assert report.entries == len(chain.rows)


@settings(max_examples=60)
@given(chains, st.data())
def test_edit_is_detected_at_that_entry(chain: Chain, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain.rows) - 1))
    seq, digest, body, prev = chain.rows[i]
    at = data.draw(st.integers(0, len(body) - 1))
    flipped = body[:at] + bytes([body[at] ^ data.draw(st.integers(1, 255))]) + body[at + 1 :]
    rehash = data.draw(st.booleans())  # an attacker may recompute this entry's hash too
    chain.rows[i] = (seq, chain_hash(prev, flipped) if rehash else digest, flipped, prev)
    report = run(chain)
    assert not report.ok
    assert report.problem is not None
    signed = {c.seq for c in chain.checkpoints}
    if rehash and seq in signed:  # self-consistent, but not what was signed
        assert (report.problem.seq, report.problem.reason) == (seq, Reason.CHECKPOINT_MISMATCH)
    elif rehash:  # self-consistent: the next entry no longer links to it
        assert (report.problem.seq, report.problem.reason) == (seq + 1, Reason.BROKEN_LINK)
    else:
        assert (report.problem.seq, report.problem.reason) == (seq, Reason.HASH_MISMATCH)


@settings(max_examples=60)
@given(chains, st.data())
def test_deletion_is_detected(chain: Chain, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain.rows) - 1))
    seq = chain.rows[i][0]
    del chain.rows[i]
    report = run(chain)
    assert report.problem is not None
    if seq <= len(chain.rows):  # not the last one: a gap
        assert (report.problem.seq, report.problem.reason) == (seq, Reason.MISSING_ENTRY)
    else:  # the last one: the final checkpoint names it
        assert (report.problem.seq, report.problem.reason) == (seq, Reason.TRUNCATED)


@settings(max_examples=60)
@given(chains.filter(lambda c: len(c.rows) >= 2), st.data())
def test_swap_is_detected(chain: Chain, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain.rows) - 2))
    j = data.draw(st.integers(i + 1, len(chain.rows) - 1))
    a, b = chain.rows[i], chain.rows[j]
    if data.draw(st.booleans()):  # swap the contents, keeping the positions
        chain.rows[i] = (a[0], b[1], b[2], b[3])
        chain.rows[j] = (b[0], a[1], a[2], a[3])
    else:  # swap whole rows (an export's lines)
        chain.rows[i], chain.rows[j] = b, a
    report = run(chain)
    assert report.problem is not None
    assert report.problem.seq == a[0]
    assert report.problem.reason in (Reason.BROKEN_LINK, Reason.OUT_OF_ORDER, Reason.MISSING_ENTRY)


@settings(max_examples=60)
@given(chains, st.data())
def test_truncation_after_a_checkpoint_is_detected(chain: Chain, data: st.DataObject) -> None:
    keep = data.draw(st.integers(0, len(chain.rows) - 1))
    del chain.rows[keep:]
    report = run(chain)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.reason) == (keep + 1, Reason.TRUNCATED)


@settings(max_examples=30)
@given(chains, st.data())
def test_forged_or_foreign_checkpoints_are_detected(chain: Chain, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(chain.checkpoints) - 1))
    good = chain.checkpoints[i]
    if data.draw(st.booleans()):
        forged = Checkpoint(
            good.seq,
            good.hash,
            good.at,
            good.public_key,
            bytes([good.signature[0] ^ 1]) + good.signature[1:],
        )
        expected = Reason.BAD_CHECKPOINT_SIGNATURE
    else:
        forged = sign_checkpoint(new_keyring(), good.seq, good.hash, good.at)
        expected = Reason.UNTRUSTED_CHECKPOINT_KEY
    chain.checkpoints[i] = forged
    report = run(chain)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.reason) == (good.seq, expected)


def test_unpinned_verification_reports_the_keys() -> None:
    chain = build(5, 2)
    verifier = ChainVerifier(chain.checkpoints)  # no trusted keys: an auditor without one
    verifier.feed(((s, h, b) for s, h, b, _ in chain.rows), lambda _s: None)
    report = verifier.finish()
    assert report.ok and report.public_keys == (KEYRING.public_signing_key().hex(),)
