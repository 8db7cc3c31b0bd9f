#!/usr/bin/env python3
"""Writes the Excel-shaped fixtures of issue #12: one High Needs budget saved the ways an LA analyst's Excel (or
LibreOffice) saves it. Every file holds the same budget lines; the tests read each and expect the same lines.

    pip install xlwt==1.3.0      # the .xls writer pandas used; only to re-make hnb-budget.xls
    python3 crates/ingest/tests/data/excel/make-fixtures.py

Files (committed; re-run this script only to change them):
- hnb-budget.utf8.csv           plain UTF-8, plain numbers: the reference
- hnb-budget.utf8-bom.csv       Excel's "CSV UTF-8 (Comma delimited)": a byte-order mark, CRLF line ends
- hnb-budget.windows-1252.csv   Excel's "CSV (Comma delimited)" on an English Windows: Windows-1252, CRLF,
                                amounts as the Currency format shows them (£, thousands separators, negatives in
                                brackets or with a minus, quoted where they hold commas), an en dash in a line name
- hnb-budget.xls                Excel 97-2003 workbook: amounts as numbers with a £ number format
- hnb-budget.ods                OpenDocument spreadsheet (LibreOffice's own format): amounts as float cells
- hnb-budget.libreoffice.{xls,ods,xlsx}
                              the Windows-1252 CSV opened by LibreOffice Calc (Debian's libreoffice-calc-nogui,
                              English (UK), "detect special numbers") and saved in each format, as an analyst
                              would: the £ amounts become numbers in a currency format. Made only where `soffice`
                              is installed.
"""
import io
import os
import shutil
import subprocess
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (financial_year, kind, line, amount in pence)
LINES = [
    ("2023-24", "opening_balance", "", -952_851_600),
    ("2023-24", "allocation", "", 2_948_831_300),
    ("2023-24", "deduction", "Academy recoupment – special", -123_456_789),
    ("2023-24", "expenditure", "Top-up – maintained special", 1_234_550),
    ("2023-24", "expenditure", "Independent & non-maintained special schools (ISP)", 812_345_678),
    ("2024-25", "allocation", "", 3_101_200_000),
    ("2024-25", "expenditure", "Top-up – maintained special", 10_000),
    ("2024-25", "expenditure", "Post-16 further education – FE colleges", 99_999_999),
]
HEADER = ["financial_year", "kind", "line", "amount"]


def plain(pence):
    sign = "-" if pence < 0 else ""
    p = abs(pence)
    return f"{sign}{p // 100}.{p % 100:02d}"


def currency(pence, brackets):
    p = abs(pence)
    text = f"£{p // 100:,}.{p % 100:02d}"
    if pence < 0:
        text = f"({text})" if brackets else f"-{text}"
    return text


def csv_line(fields):
    out = []
    for f in fields:
        out.append(f'"{f}"' if ("," in f or '"' in f) else f)
    return ",".join(out)


def write_csvs():
    rows = [csv_line(HEADER)] + [csv_line([fy, k, l, plain(a)]) for fy, k, l, a in LINES]
    with open(os.path.join(HERE, "hnb-budget.utf8.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(HERE, "hnb-budget.utf8-bom.csv"), "w", encoding="utf-8-sig", newline="") as f:
        f.write("\r\n".join(rows) + "\r\n")
    excel = [csv_line(HEADER)]
    for i, (fy, k, l, a) in enumerate(LINES):
        excel.append(csv_line([fy, k, l, currency(a, brackets=(k == "opening_balance"))]))
    with open(os.path.join(HERE, "hnb-budget.windows-1252.csv"), "w", encoding="cp1252", newline="") as f:
        f.write("\r\n".join(excel) + "\r\n")


def write_xls():
    import xlwt  # pip install xlwt==1.3.0

    book = xlwt.Workbook(encoding="cp1252")
    sheet = book.add_sheet("HNB budget")
    money = xlwt.easyxf(num_format_str='"£"#,##0.00;[Red]("£"#,##0.00)')
    for c, h in enumerate(HEADER):
        sheet.write(0, c, h)
    for r, (fy, k, l, a) in enumerate(LINES, start=1):
        sheet.write(r, 0, fy)
        sheet.write(r, 1, k)
        if l:
            sheet.write(r, 2, l)
        sheet.write(r, 3, a / 100, money)
    book.save(os.path.join(HERE, "hnb-budget.xls"))


def ods_cell(value):
    if isinstance(value, float):
        return (f'<table:table-cell office:value-type="currency" office:currency="GBP" office:value="{value!r}">'
                f"<text:p>£{value:,.2f}</text:p></table:table-cell>")
    if value == "":
        return "<table:table-cell/>"
    text = value.replace("&", "&amp;").replace("<", "&lt;")
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def write_ods():
    rows = ["<table:table-row>" + "".join(ods_cell(h) for h in HEADER) + "</table:table-row>"]
    for fy, k, l, a in LINES:
        rows.append("<table:table-row>" + "".join(ods_cell(v) for v in [fy, k, l, a / 100]) + "</table:table-row>")
    # LibreOffice ends a sheet with a row repeated to the sheet's last row, empty: it must not count as cells.
    rows.append('<table:table-row table:number-rows-repeated="1048567">'
                '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="HNB budget">'
        '<table:table-column table:number-columns-repeated="4"/>'
        + "".join(rows)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("mimetype", date_time=(2026, 12, 2, 0, 0, 0))
        z.writestr(info, "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        for name, text in [("content.xml", content), ("META-INF/manifest.xml", manifest)]:
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 2, 0, 0, 0))
            z.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED)
    with open(os.path.join(HERE, "hnb-budget.ods"), "wb") as f:
        f.write(buf.getvalue())


def write_libreoffice():
    if shutil.which("soffice") is None:
        print("soffice not found: the hnb-budget.libreoffice.* files are left as they are")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "budget.csv")
        shutil.copy(os.path.join(HERE, "hnb-budget.windows-1252.csv"), src)
        for ext in ["xls", "ods", "xlsx"]:
            # Comma, double quote, Windows-1252 (1), from line 1, default formats, English (UK) (2057), quoted
            # fields not forced to text, special numbers (currency, thousands) detected.
            subprocess.run(["soffice", "--headless", "--infilter=CSV:44,34,1,1,,2057,false,true",
                            "--convert-to", ext, "--outdir", tmp, src], check=True, capture_output=True)
            shutil.copy(os.path.join(tmp, f"budget.{ext}"), os.path.join(HERE, f"hnb-budget.libreoffice.{ext}"))


if __name__ == "__main__":
    write_csvs()
    write_libreoffice()
    write_ods()
    write_xls()
