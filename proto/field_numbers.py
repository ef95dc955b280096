#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""trace.proto's field numbers as C constants, for the code that reads or
writes the wire format by hand (the publisher's appended fields, the scans
of the journal and of nerrf tail): NERRF_PB_<MESSAGE>_<FIELD>, the message's
name in upper snake case. The .proto stays the one place a number is set.

usage: field_numbers.py trace.proto out.h
"""
import re
import sys


def snake(name):
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', name).upper()


def main(src, out):
    lines, table = [], []
    message, depth = None, 0
    for n, raw in enumerate(open(src, encoding='utf-8'), 1):
        line = raw.split('//', 1)[0].strip()
        m = re.match(r'message\s+(\w+)\s*\{$', line)
        if m and depth == 0:
            message, depth = m.group(1), 1
            continue
        if message is None:
            continue
        m = re.match(r'(?:repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*[;\[]', line)
        if m and depth == 1:
            lines.append('#define NERRF_PB_%s_%s %s' % (snake(message), m.group(1).upper(),
                                                        m.group(2)))
            table.append('\tX(%s, %s, %s)' % (message, m.group(1), m.group(2)))
        depth += line.count('{') - line.count('}')
        if depth < 0:
            sys.exit('%s:%d: unbalanced braces' % (src, n))
        if depth == 0:
            message = None
    if not lines:
        sys.exit('%s: no message fields found' % src)
    with open(out, 'w', encoding='utf-8') as f:
        f.write('/* Generated from trace.proto by proto/field_numbers.py: do not edit. */\n'
                '#ifndef NERRF_TRACE_FIELDS_H\n#define NERRF_TRACE_FIELDS_H\n\n')
        f.write('\n'.join(lines))
        f.write('\n\n/* Every field as X(Message, field, number), for the test against protoc-c. */\n'
                '#define NERRF_PB_FIELDS(X) \\\n' + ' \\\n'.join(table) + '\n'
                '\n#endif /* NERRF_TRACE_FIELDS_H */\n')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1], sys.argv[2])
