#!/usr/bin/env python3
"""What a heap dump's byte and char arrays are: counts and megabytes by length, and for the
largest groups which classes hold them (bench/run.sh with BENCH_HEAP_ARRAYS=1).

    bench/heap-arrays.py DUMP.hprof [GROUPS]

Reads an HPROF file (jcmd PID GC.heap_dump FILE: live objects only) in two passes: the first
counts primitive arrays by type and length; the second finds, for the GROUPS (default 6)
largest (type, length) groups, the class of every object, object array or GC root that
refers to one of them, and one level further for java.nio.HeapByteBuffer and
java.nio.HeapCharBuffer, which only wrap the arrays. A root of kind 3 is a local variable of a
thread's stack (a parked virtual thread's included). One array may be counted under several holders."""
import collections
import mmap
import struct
import sys

dump_file = open(sys.argv[1], 'rb')
dump = mmap.mmap(dump_file.fileno(), 0, access=mmap.ACCESS_READ)
groups_wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 6
start = dump.find(b'\0') + 1
ID = struct.unpack('>I', dump[start:start + 4])[0]
SIZES = {2: ID, 4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
NAMES = {5: 'char', 8: 'byte'}
strings, class_name = {}, {}


def u4(p):
    return struct.unpack('>I', dump[p:p + 4])[0]


def ident(p):
    return int.from_bytes(dump[p:p + ID], 'big')


def walk(on_array=None, on_instance=None, on_objects=None, on_root=None):
    """Calls back for each primitive array, instance, object array and root of the dump."""
    pos = start + 4 + 8
    while pos < len(dump):
        tag, length = dump[pos], u4(pos + 5)
        pos += 9
        if tag == 0x01:
            strings[ident(pos)] = dump[pos + ID:pos + length].decode('utf-8', 'replace')
        elif tag == 0x02:
            class_name[ident(pos + 4)] = ident(pos + 8 + ID)
        if tag not in (0x0c, 0x1c):
            pos += length
            continue
        p, end = pos, pos + length
        while p < end:
            sub = dump[p]
            p += 1
            if sub == 0xff or sub in (0x05, 0x07):
                p += ID
            elif sub == 0x01:
                p += 2 * ID
            elif sub in (0x02, 0x03, 0x08):
                if on_root:
                    on_root(sub, ident(p))
                p += ID + 8
            elif sub in (0x04, 0x06):
                p += ID + 4
            elif sub == 0x20:
                p += ID + 4 + 6 * ID + 4
                constants = struct.unpack('>H', dump[p:p + 2])[0]
                p += 2
                for _ in range(constants):
                    p += 2
                    p += 1 + SIZES[dump[p]]
                statics = struct.unpack('>H', dump[p:p + 2])[0]
                p += 2
                for _ in range(statics):
                    p += ID
                    p += 1 + SIZES[dump[p]]
                p += 2 + struct.unpack('>H', dump[p:p + 2])[0] * (ID + 1)
            elif sub == 0x21:
                oid, cid, size = ident(p), ident(p + ID + 4), u4(p + 2 * ID + 4)
                p += 2 * ID + 8
                if on_instance:
                    on_instance(oid, cid, p, size)
                p += size
            elif sub == 0x22:
                count, cid = u4(p + ID + 4), ident(p + ID + 8)
                p += 2 * ID + 8
                if on_objects:
                    on_objects(cid, p, count)
                p += count * ID
            elif sub == 0x23:
                aid, count, kind = ident(p), u4(p + ID + 4), dump[p + ID + 8]
                p += ID + 9
                if on_array:
                    on_array(aid, kind, count)
                p += count * SIZES[kind]
            else:
                raise SystemExit('unknown heap dump record %#x' % sub)
        pos = end


def name(cid):
    return strings.get(class_name.get(cid), '?').replace('/', '.')


groups, members = collections.Counter(), collections.defaultdict(set)


def on_array(aid, kind, count):
    if kind in NAMES:
        groups[(NAMES[kind], count)] += 1
        members[(NAMES[kind], count)].add(aid)


walk(on_array=on_array)
mb = {k: k[1] * c * (2 if k[0] == 'char' else 1) / 1e6 for k, c in groups.items()}
print('byte[] %.1f MB, char[] %.1f MB in all' % (sum(v for k, v in mb.items() if k[0] == 'byte'),
                                                sum(v for k, v in mb.items() if k[0] == 'char')))
largest = sorted(mb, key=lambda k: -mb[k])[:groups_wanted]
wanted = {aid: k for k in largest for aid in members[k]}
holders = collections.defaultdict(collections.Counter)
wrappers = {}


def refers(found):
    def scan(oid, cid, p, size):
        for off in range(0, size - ID + 1):
            k = found.get(ident(p + off))
            if k is not None:
                holders[k][name(cid)] += 1
                if name(cid) in ('java.nio.HeapByteBuffer', 'java.nio.HeapCharBuffer'):
                    wrappers[oid] = k
    return scan


def scan_objects(found):
    def scan(cid, p, count):
        for i in range(count):
            k = found.get(ident(p + i * ID))
            if k is not None:
                holders[k]['[' + name(cid) + '] (array)'] += 1
    return scan


def scan_roots(found):
    def scan(kind, oid):
        k = found.get(oid)
        if k is not None:
            holders[k]['GC root of kind %d' % kind] += 1
    return scan


walk(on_instance=refers(wanted), on_objects=scan_objects(wanted), on_root=scan_roots(wanted))
buffers = dict(wrappers)
wrapped = collections.defaultdict(collections.Counter)


def via(oid, cid, p, size):
    for off in range(0, size - ID + 1):
        k = buffers.get(ident(p + off))
        if k is not None:
            wrapped[k][name(cid)] += 1


if buffers:
    walk(on_instance=via)
for k in sorted(mb, key=lambda k: -mb[k])[:12]:
    print('%-4s[%8d] x %7d = %7.1f MB' % (k[0], k[1], groups[k], mb[k]))
    for holder, count in holders.get(k, collections.Counter()).most_common(4):
        print('      held by %7d %s' % (count, holder))
    for holder, count in wrapped.get(k, collections.Counter()).most_common(4):
        print('        whose buffer is held by %7d %s' % (count, holder))
