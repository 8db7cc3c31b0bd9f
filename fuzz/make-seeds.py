#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (written into fuzz/corpus/<target>/, which git ignores).

Run from the repository root: python3 fuzz/make-seeds.py
Besides the test fixtures, it writes the hostile cases of issue #14 as seeds: zip bombs (a workbook whose
sheet inflates 1,000 times, one whose central directory claims 4 GB, one whose cells sit far to the right),
header-only and blank files, and wrong, empty and short SEN2 key files. Everything is built here, small;
nothing large is committed.
"""
import io
import os
import shutil
import struct
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
KINDS = ["transitions", "population", "costs", "valid_states", "plans", "budget"]

CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
      'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
      '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
      '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
           '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
           '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def col(c):
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def row(r, cells):
    return f'<row r="{r}">' + "".join(
        f'<c r="{col(i)}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(cells)) + "</row>"


def workbook(sheet_body):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main"><sheetData>' + sheet_body + "</sheetData></worksheet>")
    return buf.getvalue()


def claim_size(wb, size):
    """Every central-directory entry claims `size` uncompressed bytes."""
    b = bytearray(wb)
    i = b.find(b"PK\x01\x02")
    while i >= 0:
        b[i + 24:i + 28] = struct.pack("<I", size)
        i = b.find(b"PK\x01\x02", i + 46)
    return bytes(b)


def ods(rows):
    """An OpenDocument spreadsheet with one table holding `rows` (XML)."""
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="Sheet1">' + rows + '</table:table></office:spreadsheet></office:body>'
               '</office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
                   compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    good = os.path.join(ROOT, "crates", "ingest", "tests", "data", "good")
    for kind, fixture in [("transitions", "transitions.csv"), ("population", "population.csv"),
                          ("costs", "costs.csv"), ("valid_states", "valid-states.csv")]:
        with open(os.path.join(good, fixture), "rb") as f:
            text = f.read()
        put(kind, "fixture", text[:4000])
        header = text.split(b"\n", 1)[0] + b"\n"
        put(kind, "header-only", header)
        put(kind, "header-then-blank-lines", header + b"\n\n  \n\r\n")
    for kind, fixture in [("plans", "plans.csv"), ("budget", "hnb-budget.csv")]:
        with open(os.path.join(ROOT, "crates", "ingest", "tests", "data", fixture), "rb") as f:
            text = f.read()
        put(kind, "fixture", text[:4000])
        put(kind, "header-only", text.split(b"\n", 1)[0] + b"\n")
    put("costs", "over-ten-million", b"need,setting,cost\nASD,MSSA,92233720368547758.07\n")
    put("population", "year-2099-and-zero", b"calendar-year,academic-year,population\n2099,1,0\n")

    # Workbooks: the first byte picks the kind in the xlsx target (2 = costs, 0 = transitions).
    costs = row(1, ["need", "setting", "cost"]) + row(2, ["ASD", "MSSA", "1000"])
    put("xlsx", "costs", b"\x02" + workbook(costs))
    put("xlsx", "bomb-whitespace-1000x", b"\x02" + workbook(costs + " " * (64 << 10)))
    put("xlsx", "bomb-claims-4GB", b"\x02" + claim_size(workbook(costs), 0xF0000000))
    put("xlsx", "bomb-claims-100-bytes", b"\x02" + claim_size(workbook(costs + " " * (64 << 10)), 100))
    far = "".join(f'<row r="{r}"><c r="ALL{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(2, 200))
    put("xlsx", "cells-far-right", b"\x00" + workbook(row(1, ["calendar-year"]) + far))

    # Issue #12: the Excel-shaped budget (Windows-1252 with £ and brackets, UTF-8 with a BOM, .xls, .ods; budget
    # is kind 5), an .xls whose DIMENSIONS claim billions of rows, an .ods repeating filled cells past the bound,
    # and UTF-16 text.
    excel = os.path.join(ROOT, "crates", "ingest", "tests", "data", "excel")
    for n in ["hnb-budget.windows-1252.csv", "hnb-budget.utf8-bom.csv"]:
        with open(os.path.join(excel, n), "rb") as f:
            put("budget", n, f.read())
    put("budget", "utf-16", "financial_year,kind,line,amount\r\n2024-25,allocation,,£5\r\n".encode("utf-16"))
    put("budget", "ambiguous-commas", b'financial_year,kind,line,amount\n2024-25,allocation,,"1,23"\n')
    with open(os.path.join(excel, "hnb-budget.xls"), "rb") as f:
        xls = f.read()
    put("xlsx", "budget.xls", b"\x05" + xls)
    at = xls.find(b"\x00\x02\x0e\x00")
    if at >= 0:
        put("xlsx", "xls-dimensions-bomb", b"\x05" + xls[:at + 8] + b"\x00\xff\xff\xff" + xls[at + 12:])
    with open(os.path.join(excel, "hnb-budget.ods"), "rb") as f:
        put("xlsx", "budget.ods", b"\x05" + f.read())
    put("xlsx", "ods-repeat-bomb", b"\x02" + ods(
        '<table:table-row><table:table-cell office:value-type="string"><text:p>need</text:p></table:table-cell>'
        '</table:table-row><table:table-row table:number-rows-repeated="300"><table:table-cell '
        'table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>'))

    # SEN2: the two samples and the register; wrong, empty and short keys for sen2_key.
    samples = os.path.join(os.path.dirname(ROOT), "shared", "formats", "sen2-samples")
    if os.path.isdir(samples):
        for n in sorted(os.listdir(samples)):
            if n.endswith(".xml"):
                with open(os.path.join(samples, n), "rb") as f:
                    put("sen2", n, f.read())
    # Published statistics: the selector byte (the target's NAMES order) and the first ~4 KB, cut at a line end.
    data = os.path.join(os.path.dirname(ROOT), "shared", "data")
    names = ["ehcp_caseload_la", "ehcp_caseload_by_age_la", "ehcp_caseload_by_setting_la",
             "ehcp_new_plans_by_age_la", "ehcp_process_mi_la", "ehcp_process_mi_variables",
             "setting_map_sen2_establishment_type"]
    if os.path.isdir(data):
        for n in sorted(os.listdir(data)):
            for i, prefix in enumerate(names):
                if n.startswith(prefix) and n.endswith(".csv") and not any(
                        n.startswith(p) for p in names if len(p) > len(prefix) and p.startswith(prefix)):
                    with open(os.path.join(data, n), "rb") as f:
                        head = f.read(4096)
                    put("published", n, bytes([i]) + head[:head.rfind(b"\n") + 1])
    put("gias", "register", b"URN,TypeOfEstablishment (name),UKPRN,EstablishmentTypeGroup (name),"
        b"PhaseOfEducation (name)\n100000,Community special school,,Special schools,Primary\n"
        b"100000,Academy converter,,Academies,Primary\n")
    put("sen2_key", "right-key", b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
    put("sen2_key", "wrong-key", b"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n")
    put("sen2_key", "empty-key", b"")
    put("sen2_key", "short-key", b"0123456789abcdef\n")
    put("sen2_key", "raw-key", os.urandom(32))
    put("totals", "totals", b"census_year,plans,new_plans\n2020,100,20\n2021,110,25\n2099,0,0\n")
    put("setting_map", "map", b"source,label,setting\nla,B,mainstream\n")
    for n in ["scenario-template.toml", "exampleshire-dbv-stockton.toml"]:
        p = os.path.join(ROOT, "examples", n)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                put("scenario", n, f.read()[:4000])
    put("setting_map", "empty-map", b"source,label,setting\n")


if __name__ == "__main__":
    main()
