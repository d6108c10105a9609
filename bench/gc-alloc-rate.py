#!/usr/bin/env python3
# Allocation rate of a JVM from its G1 log (-Xlog:gc*:file=<log>:time,uptime), over a wall-clock window: the eden
# regions each young collection found full, summed over the collections after the window's first, divided by the
# time between the first and the last (so within about one eden of the truth), and per unit of work when a rate of
# work is given.
# Usage: bench/gc-alloc-rate.py <gc log> <start HH:MM:SS UTC> <end HH:MM:SS UTC> <work per second, e.g. streams/s>
import re,sys
from datetime import datetime
log, start, end, streams_per_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def t(s): return datetime.fromisoformat(s.replace('+0000','+00:00'))
day = None
gcs=[]
for line in open(log):
    m=re.match(r'\[(\S+)\]\[[\d.]+s\] GC\((\d+)\) Eden regions: (\d+)->\d+\(\d+\)', line)
    if m:
        gcs.append((t(m.group(1)), int(m.group(3))))
d0=gcs[0][0].date().isoformat()
ws=t(d0+'T'+start+'+00:00'); we=t(d0+'T'+end+'+00:00')
w=[g for g in gcs if ws<=g[0]<=we]
region_mb = 1
for line in open(log):
    m = re.search(r'Heap Region Size: (\d+)M', line)
    if m:
        region_mb = int(m.group(1))
        break
if len(w) < 2:
    sys.exit(f"{log}: fewer than two young collections in {start}-{end}")
mb=sum(a for _,a in w[1:])*region_mb; secs=(w[-1][0]-w[0][0]).total_seconds()
rate=mb/secs
print(f"{log}: {len(w)} young GCs in {start}-{end}, {mb} MB allocated over {secs:.1f} s = {rate:.1f} MB/s; {streams_per_s}/s streams ended -> {rate*1024/streams_per_s:.0f} KiB per stream")
