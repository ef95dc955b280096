#!/usr/bin/python3
"""Renders one manual page from its Markdown source with go-md2man, then mends
what go-md2man 2.0.2 (Debian 12) leaves for roff to misread:
 - the title: "# NERRF(1)" becomes .TH with name, section, version and manual;
 - NAME: "name — what" becomes "name \\- what", the form man-db's index
   (lexgrog, apropos, whatis) reads;
 - a code-block line starting with . or ' would be taken as a request: it
   gets a \\& before it;
 - a table cell left on one line, however long, makes the table wider than
   the page: every cell becomes a text block (T{ ... T}), which tbl wraps,
   left-aligned and breakable after an underscore (metric names).

   md2man.py GO_MD2MAN IN OUT VERSION
"""
import re
import subprocess
import sys


def title(md, version):
    first, _, rest = md.partition("\n")
    m = re.fullmatch(r"# ([A-Z0-9-]+)\(([1-8])\)", first)
    if not m:
        sys.exit(f"md2man: the first line must be '# NAME(SECTION)', not '{first}'")
    return f'# {m[1]} {m[2]} "" "nerrf-tracker {version}" "nerrf-tracker manual"\n{rest}'


def cells(data):
    """The rows of a tbl data section, each a list of cell texts."""
    rows, row, i = [], [], 0
    while i < len(data):
        if data.startswith("T{\n", i):
            end = data.find("\nT}", i)
            if end < 0:
                sys.exit("md2man: a table text block without its T}")
            row.append(data[i + 3:end])
            i = end + 3
        else:
            m = re.compile(r"[^\t\n]*").match(data, i)
            row.append(m[0])
            i = m.end()
        if i >= len(data) or data[i] == "\n":
            rows.append(row)
            row = []
        i += 1
    return rows


def mend(roff):
    out, lines, i, in_nf = [], roff.split("\n"), 0, False
    while i < len(lines):
        line = lines[i]
        if line == ".nf":
            in_nf = True
        elif line == ".fi":
            in_nf = False
        elif in_nf and line[:1] in (".", "'"):
            line = "\\&" + line
        if line == ".TS":
            # options; format lines, the last ending in '.'; data; .TE
            j = i + 1
            while not lines[j].rstrip().endswith("."):
                j += 1
            end = lines.index(".TE", j)
            # left-aligned: names without spaces in narrow columns cannot be justified
            out += [".na"] + lines[i:j + 1]
            for row in cells("\n".join(lines[j + 1:end])):
                # long names (metric names) may break after an underscore
                out.append("\t".join("T{\n" + c.replace("_", "_\\:") + "\nT}" for c in row))
            out += [".TE", ".ad"]
            i = end + 1
            continue
        out.append(line)
        i += 1
    roff = "\n".join(out)
    return re.sub(r"(\.SH NAME\n\.PP\n[^\n]*?) — ", r"\1 \\- ", roff, count=1)


def main():
    md2man, src, dst, version = sys.argv[1:5]
    with open(src, encoding="utf-8") as f:
        md = title(f.read(), version)
    roff = subprocess.run([md2man], input=md, capture_output=True, text=True, check=True).stdout
    with open(dst, "w", encoding="utf-8") as f:
        f.write(mend(roff))


main()
