# The conversation trace with a batch backlog: its own rows as online traffic (P0 for 30%, P1 for the rest, by row
# number), plus BATCH P2 requests with the same token mix (every row's tokens in turn), arriving evenly over the hour.
import csv, sys, datetime
src, out, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(src)))
def t(s):
    d, frac = s.split('.')
    base = datetime.datetime.strptime(d, '%Y-%m-%d %H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return base + datetime.timedelta(microseconds=int(frac[:6]))
times = [t(r['TIMESTAMP']) for r in rows]
start, end = min(times), max(times)
span = (end - start).total_seconds()
lines = []
for i, r in enumerate(rows):
    lines.append((times[i], r['ContextTokens'], r['GeneratedTokens'], 'P0' if i % 10 < 3 else 'P1', 'online'))
for j in range(batch):
    r = rows[j % len(rows)]
    lines.append((start + datetime.timedelta(seconds=span * j / batch), r['ContextTokens'], r['GeneratedTokens'], 'P2', 'batch'))
lines.sort(key=lambda l: l[0])
with open(out, 'w') as f:
    f.write('time,promptTokens,completionTokens,tier,tenant\n')
    for l in lines:
        f.write('%s,%s,%s,%s,%s\n' % (l[0].strftime('%Y-%m-%dT%H:%M:%S.%fZ'), l[1], l[2], l[3], l[4]))
