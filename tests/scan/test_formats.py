"""Formats: column-aware CSV, JSON(L), XLSX in an e-mail, ZIP, encodings, hostile input."""

from __future__ import annotations

import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook

from privault.scan import Limits, Scanner, scan_paths

EMAILS = [f"user{n}@example.org" for n in range(20)]
CARD = "4111 1111 1111 1111"


def _xlsx_bytes() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "e-mail", "note"])
    for n, address in enumerate(EMAILS):
        sheet.append([f"Person {n}", address, "ok"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _scan(*paths: Path, **kwargs: object) -> object:
    return scan_paths(list(paths), Scanner(), **kwargs)  # type: ignore[arg-type]


def test_csv_is_column_aware_and_redacts(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    rows = ["id;kontakt;telefon"] + [f"{n};{a};602 123 {n:03d}" for n, a in enumerate(EMAILS)]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "redacted.csv"
    report = scan_paths([source], Scanner(), redact_to=out)
    assert report.files[0].columns == {"kontakt": "EMAIL_ADDRESS", "telefon": "PHONE_NUMBER"}
    assert report.counts["EMAIL_ADDRESS"] == 20
    redacted = out.read_text(encoding="utf-8")
    assert (
        "@" not in redacted and "[EMAIL_ADDRESS]" in redacted and redacted.startswith("id;kontakt")
    )


def test_text_in_cp1250_and_utf16(tmp_path: Path) -> None:
    text = "Zákazník Šťastný, rodné číslo 736028/5163, účet CZ65 0800 0000 1920 0014 5399. " * 3
    for encoding in ("cp1250", "utf-16"):
        path = tmp_path / f"note-{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        out = tmp_path / f"out-{encoding}.txt"
        report = scan_paths([path], Scanner(), redact_to=out)
        assert report.counts == {"CZ_BIRTH_NUMBER": 3, "IBAN_CODE": 3}, encoding
        assert "0800" not in out.read_text(encoding="utf-8" if encoding == "utf-16" else encoding)


def test_json_and_jsonl_keep_their_structure(tmp_path: Path) -> None:
    doc = tmp_path / "c.json"
    doc.write_text(json.dumps({"customers": [{"mail": a, "card": CARD} for a in EMAILS[:3]]}))
    lines = tmp_path / "c.jsonl"
    lines.write_text(
        "\n".join(json.dumps({"phone": "+420 602 123 456", "n": i}) for i in range(4))
        + "\nnot json but mail x@example.org\n"
    )
    out = tmp_path / "out"
    report = scan_paths([doc, lines], Scanner(), redact_to=out)
    assert report.files[0].counts == {"EMAIL_ADDRESS": 3, "CREDIT_CARD": 3}
    assert report.files[1].counts == {"PHONE_NUMBER": 4, "EMAIL_ADDRESS": 1}
    assert [p.code for p in report.files[1].problems] == ["scanned_as_text"]
    masked = json.loads((out / "c.json").read_text())
    assert masked["customers"][0] == {"mail": "[EMAIL_ADDRESS]", "card": "[CREDIT_CARD]"}
    first = json.loads((out / "c.jsonl").read_text().splitlines()[0])
    assert first == {"phone": "[PHONE_NUMBER]", "n": 0}


def test_eml_with_xlsx_attachment_inside_a_zip(tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "me@company.example"
    message["To"] = "friend@gmail.com"
    message["Subject"] = "the list"
    message.set_content("Here it is. Call me on +420 602 123 456.")
    message.add_attachment(
        _xlsx_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="customers.xlsx",
    )
    archive = tmp_path / "mail.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("list.eml", message.as_bytes())
    report = scan_paths([archive], Scanner())
    by_path = {f.path.rsplit("!", 1)[-1]: f for f in report.files}
    assert by_path["list.eml"].counts == {"PHONE_NUMBER": 1}
    assert by_path["customers.xlsx"].counts == {"EMAIL_ADDRESS": 20}
    assert by_path["customers.xlsx"].columns == {"Sheet!e-mail": "EMAIL_ADDRESS"}


def test_hostile_input_gives_clear_problems_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("mail a@example.org")
    corrupt = tmp_path / "broken.zip"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(_xlsx_bytes()[:1500])
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", b"\x00" * (50 << 20))
    nested = b"mail deep@example.org"
    name = "deep.txt"
    for level in range(8):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr(name, nested)
        nested, name = buffer.getvalue(), f"level{level}.zip"
    deep = tmp_path / "deep.zip"
    deep.write_bytes(nested)
    report = scan_paths(
        [good, corrupt, truncated, junk, bomb, deep], Scanner(), limits=Limits(max_depth=4)
    )
    codes = {f.path.rsplit("/", 1)[-1]: [p.code for p in f.problems] for f in report.files}
    assert codes["good.txt"] == []
    assert codes["broken.zip"] == ["bad_zip"]
    assert codes["cut.xlsx"] == ["bad_xlsx"]
    assert codes["junk.bin"] == ["not_text"]
    assert codes["bomb.zip"] == ["zip_bomb"]
    assert any(c == ["too_deep"] for c in codes.values())
    assert report.counts["EMAIL_ADDRESS"] == 1
    assert report.verdict is not None and report.verdict.decision == "block"
    assert report.verdict.reasons[0].code == "not_scanned"
    for f in report.files:
        for problem in f.problems:
            assert problem.render("cs") and problem.render("ur")


def test_member_lying_about_its_size_is_stopped(tmp_path: Path) -> None:
    limits = Limits(max_member_bytes=1 << 20)
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"x " * (2 << 20))
    report = scan_paths([big], Scanner(), limits=limits)
    assert [p.code for p in report.files[0].problems] == ["limit"]
