#!/usr/bin/env python3
"""bench/report.py - the figures and the table of bench/bench.sh.

    python3 bench/report.py [--strict] RAW
    python3 bench/report.py --callgrind SECS NO YES

bench.sh starts the clients, daemons and helpers and writes what they
measured to RAW, one record a line: a type, then KEY=VALUE fields, all
separated by tabs.  A helper's own output line (spawn's "n=2 failed=0
cpu_us=... wall_us=...", latency's, audiocheck find-offset's) is kept
whole as one value;
syscall traces are files named relative to RAW's directory.  This program
computes the figures (medians, ranges, ratios, round-by-round ratios,
verdicts) and prints one row per figure, in the order they were measured:

    figure | measured | target | result

result: pass, miss (target not met), info (no target), n/a (not measured,
with the reason), FAIL (something broke).  Exit status 1 if a row is FAIL,
or with --strict a miss; else 0.

--callgrind: one end's instructions per second of audio in the plugin's
functions, from callgrind_annotate's listings of a SECS-second run, NO
without and YES with --inclusive.

Numbers are printed with C's conversions ("%.3g", "%.6g"), and a figure
computed from others uses them as rounded in the table.
"""

import math
import os
import re
import sys


# ---- numbers ---------------------------------------------------------------

NUMBER = re.compile(r'\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?')


def num(s):
    """A value as awk reads it: its leading number, 0 if none."""
    if isinstance(s, (int, float)):
        return float(s)
    m = NUMBER.match(s)
    return float(m.group(0)) if m else 0.0


def div(a, b):
    """a / b, with IEEE results for b == 0 (inf, -inf, nan)."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def g3(x):
    return '%.3g' % x


def g6(x):
    return '%.6g' % x


def kv(line, key):
    """The value of KEY=... in a helper's "key=value key=value" line."""
    for word in line.split():
        if word.startswith(key + '='):
            return word[len(key) + 1:]
    return ''


def median(values):
    """The middle value (the lower one of two), as printed."""
    if not values:
        return ''
    s = sorted(values, key=num)
    return s[(len(s) + 1) // 2 - 1]


def spread(values):
    """The range of the values: "LOW-HIGH"."""
    s = sorted(values, key=num)
    return '%s-%s' % (s[0], s[-1])


VERDICT_NUMBER = re.compile(r'-?[0-9.]+(e[-+]?[0-9]+)?$')


def verdict(value, op, limit):
    """pass or miss for VALUE OP LIMIT; n/a if VALUE is not a number."""
    value = str(value)
    if not VERDICT_NUMBER.match(value):
        return 'n/a'
    v = num(value)
    if op == '<=':
        ok = v <= limit
    elif op == '>=':
        ok = v >= limit
    elif op == 'abs<=':
        ok = -limit <= v <= limit
    else:
        ok = False
    return 'pass' if ok else 'miss'


def exactness(line):
    """audiocheck find-offset's line in words."""
    if kv(line, 'exact') == '1':
        return 'bit-exact'
    if kv(line, 'found') != '1':
        return 'not bit-exact: the stream is not in the recording'
    s = 'not bit-exact:'
    if kv(line, 'head_lost') != '0':
        s += ' head lost %s frames,' % kv(line, 'head_lost')
    if kv(line, 'tail_lost') != '0':
        s += ' tail lost %s frames,' % kv(line, 'tail_lost')
    if kv(line, 'differ') != '0':
        s += ' %s frames differ (%s silenced, max %s LSB),' % (
            kv(line, 'differ'), kv(line, 'silenced'), kv(line, 'max_diff'))
    if kv(line, 'extra') != '0':
        s += ' %s extra frames,' % kv(line, 'extra')
    return s[:-1] if s.endswith(',') else s


SYSTEMS = {'loop': 'loopback', 'pw': 'PipeWire', 'pa': 'PulseAudio'}
# loop / peer CPU targets (the median of the round-by-round ratios).
PEER_TARGETS = {'pw': (0.3333333, '<= 1/3'), 'pa': (0.2, '<= 1/5')}


# ---- the report --------------------------------------------------------------

class Report:
    def __init__(self, rawdir):
        self.rawdir = rawdir
        self.rows = []
        self.footer = ''
        self.cpu = {}           # cfg: [round figures]
        self.scale1 = None      # CPU per cable with 1 cable (ms/s)
        self.peer_ms = []       # (round, sys, period, ms/s)
        self.peer_desc = {}     # (sys, period): (round 1's description, verdict)
        self.tap = {}           # round: {off, on: us; tap, watch: ms/s; xruns}

    def row(self, figure, measured, target, result):
        self.rows.append((figure, str(measured), target, result))

    # 1. CPU per second of audio: one round of loop, null and floor, each
    # run T and T0 s long; steady ms/s = the difference / (T - T0).
    def rec_cpu(self, f):
        secs, secs0 = num(f['secs']), num(f['secs0'])
        rate, start = {}, {}
        for k in ('loop', 'null', 'floor'):
            long_us = num(kv(f[k], 'cpu_us'))
            short_us = num(kv(f[k + '0'], 'cpu_us'))
            rate[k] = num(g6((long_us - short_us) / 1000 / (secs - secs0)))
            start[k] = num(g6(short_us / 1000 - rate[k] * secs0))
        l, n, fl = rate['loop'], rate['null'], rate['floor']
        self.cpu.setdefault(f['cfg'], []).append([
            g3(div(l - n, fl if fl > 0 else 1e-9)), g3(div(l, n if n > 0 else 1e-9)),
            g3(l), g3(n), g3(fl), g3(start['loop']), g3(start['null'])])

    def rec_cpu_end(self, f):
        cfg = f['cfg']
        rounds = self.cpu.get(cfg)
        if not rounds:
            return
        label = 'period %s' % cfg if cfg == 'default' else 'period %s x4' % cfg
        ratios = [r[0] for r in rounds]
        fr = median(ratios)
        # The median round's figures (the first round with that ratio).
        m = next(r for r in rounds if num(r[0]) == num(fr))
        rng = ''
        if int(f['rounds']) > 1:
            rng = '; %s rounds %sx' % (f['rounds'], spread(ratios))
        # The old target (<= 1.3x null) is retired: null is not paced, no
        # real time device can come near it at small periods.  A figure only.
        self.row('1. CPU, %s: loop / null' % label, '%sx (%s vs %s ms/s)' % (m[1], m[2], m[3]),
                 '-', 'info')
        fm = '%sx (%s vs %s ms/s%s)' % (fr, g3(num(m[2]) - num(m[3])), m[4], rng)
        fig = '1. CPU, %s: (loop - null) / floor' % label
        if cfg == 'default':
            self.row(fig, fm, '-', 'info')
        else:
            self.row(fig, fm, '<= 1.2x', verdict(fr, '<=', 1.2))
        if f['secs0'] != '0':
            self.row('1. start-up, %s: loop vs null (both clients, once a stream)' % label,
                     '%s vs %s ms' % (g3(num(m[5])), g3(num(m[6]))), '-', 'info')
        self.row('1. xruns, %s (aplay+arecord)' % label, f['xruns'], '0',
                 verdict(f['xruns'], '<=', 0))

    # The plugin's timer pattern against one deadline per period.
    def rec_timer(self, f):
        secs = num(f['secs'])
        us = {k: num(kv(f[k], 'cpu_us')) for k in ('plugin', 'oneshot', 'periodic')}
        self.row("1. timer pattern, period 64: plugin's / one deadline",
                 '%sx (%s vs %s ms/s; periodic timer %s)' % (
                     g6(div(us['plugin'], us['oneshot'])), g6(us['plugin'] / 1000 / secs),
                     g6(us['oneshot'] / 1000 / secs), g6(us['periodic'] / 1000 / secs)),
                 '-', 'info')

    # 2. latency, jitter, wake-ups; 5. clock (period 64).
    def rec_latency(self, f):
        p, secs, line = f['period'], f['secs'], f['line']

        def ms(key):
            return g6(num(kv(line, key)) / 1000)

        self.row('2. latency p50/p99/max, period %s x4, %ss' % (p, secs),
                 '%s/%s/%s ms (bound p50 %s)' % (ms('lat_p50_us'), ms('lat_p99_us'),
                                                 ms('lat_max_us'), ms('bound_p50_us')),
                 '-', 'info')
        ex = ms('excess_p99_us')
        self.row('2. latency p99 over bound, period %s' % p,
                 '%s ms (max %s)' % (ex, ms('excess_max_us')), '<= 0.25 ms',
                 verdict(ex, '<=', 0.25))
        self.row('2. timer wake-up lateness p50/p99/max, period %s' % p,
                 '%s/%s/%s ms' % (ms('wake_p50_us'), ms('wake_p99_us'), ms('wake_max_us')),
                 '-', 'info')
        x = int(num(kv(line, 'play_xruns')) + num(kv(line, 'cap_xruns')))
        fig = '2. xruns, period %s x4, %ss (SCHED_FIFO: %s)' % (p, secs, kv(line, 'rt'))
        if p == '64':
            self.row(fig, x, '0', verdict(x, '<=', 0))
            for e in ('cap', 'play'):
                v = kv(line, e + '_ppm')
                self.row('5. clock, %s end vs CLOCK_MONOTONIC, %ss' % (e, secs), v + ' ppm',
                         'within 20 ppm', verdict(v, 'abs<=', 20))
        else:
            self.row(fig, x, '-', 'info')

    # 3. scale: N cables at once, CPU per cable against 1 cable.
    def rec_scale(self, f):
        n = int(f['cables'])
        per = g6(num(kv(f['loop'], 'cpu_us')) / n / 1000 / num(f['secs']))
        if self.scale1 is None:
            self.scale1 = per
        flat = g6(div(num(per), num(self.scale1)))
        self.row('3. scale %d cables: CPU per cable (x of 1 cable)' % n,
                 '%s ms/s (%sx)' % (per, flat), '<= 1.5x (flat)', verdict(flat, '<=', 1.5))
        fig = '3. scale %d cables: xruns' % n
        if n <= 64:
            self.row(fig, f['xruns'], '0', verdict(f['xruns'], '<=', 0))
        else:
            self.row(fig, f['xruns'], '-', 'info')
        # The last one out of a cable removes its segment: what is left
        # after the clients closed is what a cable costs when nobody uses it.
        left = f['segments_left']
        self.row('3. scale %d cables: memory per cable' % n,
                 'segments left after close: %s; clients RSS %d KiB (null %d KiB)' % (
                     left, int(num(kv(f['loop'], 'maxrss_kb'))) // n,
                     int(num(kv(f['null'], 'maxrss_kb'))) // n),
                 '0 left', verdict(left, '<=', 0))

    # 4. shm_ring's copy against memcpy (bench/ringcopy gives the ratios).
    def rec_copy(self, f):
        line = f['line']
        for d in ('write', 'read'):
            v = kv(line, d + '_ratio')
            self.row('4. shm_ring_%s / memcpy, %s x 4 B' % (d, f['chunk']),
                     '%sx (%s vs %s Mframes/s)' % (
                         v, g6(num(kv(line, 'ring_%s_fps' % d)) / 1e6),
                         g6(num(kv(line, 'memcpy_%s_fps' % d)) / 1e6)),
                     '>= 0.8x', verdict(v, '>=', 0.8))

    # 6. peers: one run of a system in a round.
    @staticmethod
    def peer_figure(f):
        p = int(f['period'])
        return '6. %d/%d, %ss: %s' % (p, p * 4, f['secs'], SYSTEMS[f['sys']])

    def rec_peer_fail(self, f):
        why = f['why'] + (' (the 2nd try too)' if f['retry'] else '')
        self.row(self.peer_figure(f), why, 'exit 0', 'FAIL' if f['sys'] == 'loop' else 'n/a')

    def rec_peer_na(self, f):
        self.row(self.peer_figure(f), 'n/a: ' + f['why'], '-', 'n/a')

    def rec_peer(self, f):
        secs = num(f['secs'])
        d0, d1 = num(f['daemon_us0']), num(f['daemon_us1'])
        cpu = g6(num(kv(f['clients'], 'cpu_us')) + d1 - d0)
        ms = g3(num(cpu) / 1000 / secs)
        self.peer_ms.append((f['round'], f['sys'], f['period'], ms))
        ex = exactness(f['found'])
        lat = ''
        if f['round'] == '1':
            if f['latency']:
                lat = 'latency p50/p99 %s/%s ms' % (
                    g3(num(kv(f['latency'], 'lat_p50_us')) / 1000),
                    g3(num(kv(f['latency'], 'lat_p99_us')) / 1000))
            else:
                lat = 'latency n/a (%s)' % f['latency_error']
        x = f['xruns']
        m = ''
        if f['daemons']:
            m = 'daemons %s ms/s, RSS %s MiB; ' % (g3((d1 - d0) / 1000 / secs),
                                                   g3(num(f['daemon_rss_kb']) / 1024))
        m += ex + ';' + (' %s;' % lat if lat else '') + ' xruns ' + x
        if f['retry']:
            m += '; 2nd try, 1st: ' + f['retry']
        if f['sys'] == 'loop':
            # Lost with an xrun to explain it (a loaded machine): a miss;
            # lost or changed without one: broken.
            if kv(f['found'], 'exact') == '1':
                v = 'pass'
            elif num(x) > 0:
                v = 'miss'
            else:
                v = 'FAIL'
        else:
            v = 'info'
        if f['round'] == '1':
            self.peer_desc[(f['sys'], f['period'])] = (m, v)
        elif v not in ('pass', 'info'):
            self.row(self.peer_figure(f) + ', round ' + f['round'], '%s ms/s; %s' % (ms, m),
                     'bit-exact', v)

    # After the rounds: each system's median round, then loop / peer round
    # by round (both measured within a few minutes of each other).
    def rec_peers(self, f):
        rounds = int(f['rounds'])
        why = {'loop': '', 'pw': f['pw_why'], 'pa': f['pa_why']}
        for p in f['periods'].split():
            def ms_of(sys):
                return [(r, ms) for r, s, pp, ms in self.peer_ms if s == sys and pp == p]

            for sys in ('loop', 'pw', 'pa'):
                fig = self.peer_figure({'period': p, 'secs': f['secs'], 'sys': sys})
                if why[sys]:
                    self.row(fig, 'n/a: ' + why[sys], '-', 'n/a')
                elif (sys, p) in self.peer_desc:
                    vals = [ms for _, ms in ms_of(sys)]
                    m = median(vals) + ' ms/s'
                    if rounds > 1:
                        m += ' (%d rounds %s)' % (rounds, spread(vals))
                    desc, v = self.peer_desc[(sys, p)]
                    self.row(fig, '%s; %s' % (m, desc), 'bit-exact' if sys == 'loop' else '-',
                             v)
            for sys in ('pw', 'pa'):
                lim, tgt = PEER_TARGETS[sys]
                fig = '6. CPU %s/%d: loop / %s' % (p, int(p) * 4, SYSTEMS[sys])
                loop = dict(ms_of('loop'))
                peer = dict(ms_of(sys))
                ratios = [g3(num(loop[r]) / num(peer[r])) for r in loop
                          if r in peer and num(peer[r]) > 0]
                if ratios:
                    r = median(ratios)
                    m = '%sx (%s vs %s ms/s, medians' % (
                        r, median(list(loop.values())), median(list(peer.values())))
                    if len(ratios) > 1:
                        m += '; %d rounds %sx' % (len(ratios), spread(ratios))
                    self.row(fig, m + ')', tgt, verdict(r, '<=', lim))
                else:
                    self.row(fig, 'n/a: %s did not run (above)' % SYSTEMS[sys], tgt, 'n/a')

    # 7. syscalls per period of one end, from perf stat's counts or an
    # strace log.  The client's own syscalls are its file I/O (aplay's
    # read of fd 0, arecord's write to fd 1); the rest are ours.
    SC_ENDS = {'play': ('aplay', 'read(0,', 'read'), 'cap': ('arecord', 'write(1,', 'write'),
               'floor': ('floor', 'write(99,', 'write')}

    def rec_syscalls(self, f):
        tool, end, p = f['tool'], f['end'], int(f['period'])
        who, own, ev = self.SC_ENDS[end]
        fig = '7. syscalls per period, %s end, period %d (%s)' % (who, p, tool)
        tgt = '<= 1 ours'
        if tool == 'strace' and f['first_tool'] == 'perf':
            tgt = '-'
        if end == 'floor':
            # What a bare periodic wake-up needs: the least for any end
            # that sleeps in poll() on a timer (bench/wakeup.c).
            fig = '7. syscalls per period, floor: bare poll() on a periodic timerfd (%s)' % tool
            tgt = '-'
        if f['failed'] == '1':
            self.row(fig, '%s failed: %s' % (who, f['error']), 'exit 0', 'FAIL')
            return
        try:
            with open(os.path.join(self.rawdir, f['trace']), errors='replace') as t:
                lines = t.read().splitlines()
        except OSError:
            lines = []
        if tool == 'perf':
            res = self.perf_counts(lines, 'syscalls:sys_enter_' + ev, p)
        else:
            res = self.strace_counts(lines, own, p)
        if res is None or res[0] < 10:
            self.row(fig, 'n/a: %s could not watch it: %s' % (tool, f['tool_error']), tgt, 'n/a')
            return
        periods, ours, mine, names = res
        v = 'info' if tgt == '-' else verdict(ours, '<=', 1)
        if end == 'floor':
            self.row(fig, '%s (%s); %d periods' % (ours, names, periods), tgt, v)
        else:
            self.row(fig, "%s ours (%s) + %s the client's own; %d periods" % (
                ours, names, mine, periods), tgt, v)

    @staticmethod
    def per_period(counts, order, periods):
        """ "name 1.00, name 2.00" for the names of 0.01 a period or more."""
        return ', '.join('%s %.2f' % (k, counts[k] / periods) for k in order
                         if counts[k] / periods >= 0.01)

    def perf_counts(self, lines, ev, p):
        # CSV: count,unit,event,...; the event filtered on the client's own
        # file descriptor comes last and is taken off its unfiltered count.
        secs = total = own = 0.0
        counts, order = {}, []
        for line in lines:
            c = line.split(',')
            if line.startswith('#') or len(c) < 3:
                continue
            if c[2] == 'duration_time':
                secs = num(c[0]) / 1e9
            elif c[2] == 'raw_syscalls:sys_enter':
                total = num(c[0])
            else:
                name = re.sub('^syscalls:sys_enter_', '', c[2])
                if c[2] == ev and name in counts:
                    own = num(c[0])
                    counts[name] -= own
                else:
                    counts[name] = num(c[0])
                    order.append(name)
        periods = secs * 48000 / p
        if periods < 1:
            return None
        named = sum(counts[k] for k in order)
        s = self.per_period(counts, order, periods)
        if (total - own - named) / periods >= 0.01:
            s += ', other %.2f' % ((total - own - named) / periods)
        return int(periods), '%.2f' % ((total - own) / periods), '%.2f' % (own / periods), s

    def strace_counts(self, lines, own, p):
        # "PID TIME name(args) = ret", one a line; periods from the first
        # to the last line's time.
        t0 = t1 = None
        mine = total = 0
        counts = {}
        for line in lines:
            # restart_syscall: the poll strace interrupted to attach.
            if ('resumed>' in line or '<unfinished' in line or 'restart_syscall' in line
                    or '(' not in line):
                continue
            words = line.split()
            t1 = words[1] if len(words) > 1 else ''
            if t0 is None:
                t0 = t1
            call = re.sub(r'^[0-9]+ +[0-9.]+ +', '', line, count=1)
            if call.startswith(own):
                mine += 1
                continue
            name = call.split('(', 1)[0]
            counts[name] = counts.get(name, 0) + 1
            total += 1
        if t0 is None:
            return None
        periods = (num(t1) - num(t0)) * 48000 / p
        if periods < 1:
            return None
        return (int(periods), '%.2f' % (total / periods), '%.2f' % (mine / periods),
                self.per_period(counts, list(counts), periods))

    # 8. lossless throughput against a kernel pipe moving the same file.
    def rec_lossless(self, f):
        fig, pipe, lo, found = f['figure'], f['pipe'], f['clients'], f['found']
        pipe_us = kv(pipe, 'wall_us')
        # The playback started 0.2 s after the capture: taken off.
        loop_us = int(num(kv(lo, 'wall_us'))) - 200000
        nbytes = num(f['bytes'])
        if (pipe_us or '0') == '0':
            self.row(fig, 'n/a: the pipe run failed', '>= 0.5x', 'n/a')
        elif kv(found, 'exact') != '1':
            self.row(fig, exactness(found), 'bit-exact', 'FAIL')
        else:
            r = g3(div(num(pipe_us), loop_us))
            self.row(fig, '%sx (%s vs %s MB/s; bit-exact; CPU %s vs %s s)' % (
                r, g3(div(nbytes, loop_us)), g3(nbytes / num(pipe_us)),
                g3(num(kv(lo, 'cpu_us')) / 1000000), g3(num(kv(pipe, 'cpu_us')) / 1000000)),
                '>= 0.5x', verdict(r, '>=', 0.5))

    # Shared cables (bench/shared.sh).
    def rec_shared_mix(self, f):
        cpu = [num(kv(v, 'cpu_us')) for k, v in f.items() if k.startswith('capture_')]
        ratios = [g3(div(c, cpu[0])) for c in cpu]
        self.row('shared: capture CPU with 1/4/16 playbacks mixed, vs 1 (256-frame periods)',
                 ' / '.join(ratios), '16 playbacks <= 16x', verdict(ratios[-1], '<=', 16))

    def rec_shared_full(self, f):
        cpu = num(kv(f['playbacks'], 'cpu_us')) + num(kv(f['captures'], 'cpu_us'))
        self.row('shared: 16 playbacks + 16 captures, 256-frame periods, %s s' % f['secs'],
                 '%s xruns, %s s CPU' % (f['xruns'], g3(cpu / 1000000)), '0 xruns',
                 verdict(f['xruns'], '<=', 0))

    def rec_shared_lone(self, f):
        def cpu(*keys):
            return sum(int(num(kv(f[k], 'cpu_us'))) for k in keys)

        r = g3(div(cpu('shared_playback', 'shared_capture'), cpu('loop_playback', 'loop_capture')))
        self.row('shared: one playback, CPU of sharedloop vs loop (both clients)', r + 'x',
                 '<= 1.2x (noise)', verdict(r, '<=', 1.2))

    # Tap and watch (bench/tap.sh): round by round, the streams' CPU with a
    # tap and a watch on the cable against without; the tap's and the
    # watch's own CPU per second of audio.
    def rec_tap(self, f):
        def cpu(key):
            return num(kv(f[key], 'cpu_us'))

        r = self.tap.setdefault(f['round'], {})
        r['xruns'] = r.get('xruns', 0) + int(num(f['xruns']))
        if f['with'] == '1':
            secs = num(f['secs'])
            r['on'] = cpu('playback') + cpu('capture')
            r['tap'] = g3(cpu('tap') / secs / 1000)
            r['watch'] = g3(cpu('watch') / secs / 1000)
        else:
            r['off'] = cpu('playback') + cpu('capture')

    def rec_tap_end(self, f):
        rounds = [r for r in self.tap.values() if 'on' in r and 'off' in r]
        if not rounds:
            return
        ratio = median([g3(div(r['on'], r['off'])) for r in rounds])
        xruns = sum(r['xruns'] for r in self.tap.values())
        self.row('tap: aplay+arecord CPU with a tap and a watch on the cable vs without '
                 '(256-frame periods)', '%sx, %d xruns' % (ratio, xruns), '<= 1.1x (noise)',
                 verdict(ratio, '<=', 1.1))
        self.row('tap: its own CPU, 48 kHz stereo S16 (watch every 0.5 s beside it)',
                 '%s ms/s (watch %s ms/s)' % (median([r['tap'] for r in rounds]),
                                              median([r['watch'] for r in rounds])),
                 'info', 'info')

    # Memory in a 64 MiB tmpfs (bench/memory.sh), the "dir" key's
    # directory: issue 16's targets.
    MEM_SEQ_FIG = 'memory: %s cables one after another in a 64 MiB tmpfs: all open, KiB used after'
    MEM_PAR_FIG = ('memory: %s cables playing + recording at once (S16 stereo 48 kHz, default '
                   'buffers) in a 64 MiB tmpfs: KiB used')
    MEM_SEQ_TARGET = 'all open, <= 2048 KiB'
    MEM_PAR_TARGET = '<= 4096 KiB'

    def rec_memory_skipped(self, f):
        self.row(self.MEM_SEQ_FIG % f['sequence'], 'skipped: ' + f['why'], self.MEM_SEQ_TARGET,
                 'n/a')
        self.row(self.MEM_PAR_FIG % f['at_once'], 'skipped: ' + f['why'], self.MEM_PAR_TARGET,
                 'n/a')

    @staticmethod
    def mem_verdict(statuses, complete, used, limit):
        """A client killed by a signal (timeout's 124 too) is never a clean
        failure: FAIL; one that could not run is a miss; else the target."""
        if any(int(num(s)) >= 124 for s in statuses):
            return 'FAIL'
        return verdict(used, '<=', limit) if complete else 'miss'

    def rec_memory_sequence(self, f):
        n, opened, used = int(f['cables']), int(f['opened']), f['used_kb']
        m = '%d of %d opened, %s KiB used after the last closed' % (opened, n, used)
        if opened < n:
            m += '; cable %d: exit %s: %s' % (opened + 1, f['status'], f['error'])
        self.row(self.MEM_SEQ_FIG % n, m, self.MEM_SEQ_TARGET,
                 self.mem_verdict([f['status']], opened == n, used, 2048))

    def rec_memory_at_once(self, f):
        n, used = int(f['cables']), f['used_kb']
        clients = {k: v.split() for k, v in f.items() if re.match(r'[pr][0-9]+$', k)}
        # "status S buffer FRAMES" per client.
        status = {k: v[1] for k, v in clients.items()}
        ran = sum(1 for k in clients if k.startswith('p') and status[k] == '0' and
                  status['r' + k[1:]] == '0')
        # snd-aloop: each stream's buffer, allocated at hw_params (the
        # streams that got one).
        buffers = [int(num(v[3])) for v in clients.values() if num(v[3]) > 0]
        aloop = sum(buffers) * int(f['frame_bytes'])
        if buffers:
            aloop = "%d KiB, the %d streams' buffers" % (aloop // 1024, len(buffers))
        else:
            aloop = 'not known: no buffer_size from aplay -v / arecord -v'
        m = '%d of %d cables ran, %s KiB used (snd-aloop: %s)' % (ran, n, used, aloop)
        if f['error']:
            m += '; ' + f['error']
        self.row(self.MEM_PAR_FIG % n, m, self.MEM_PAR_TARGET,
                 self.mem_verdict(status.values(), ran == n, used, 4096))

    def rec_row(self, f):
        self.row(f['figure'], f['measured'], f['target'], f['result'])

    def rec_end(self, f):
        self.footer = f['machine']

    def read(self, path):
        with open(path, errors='replace') as raw:
            for n, line in enumerate(raw, 1):
                kind, *fields = line.rstrip('\n').split('\t')
                f = dict(field.split('=', 1) for field in fields)
                handler = getattr(self, 'rec_' + kind.replace('-', '_'), None)
                if handler is None:
                    sys.exit('report.py: %s:%d: unknown record "%s"' % (path, n, kind))
                handler(f)

    def table(self):
        # Columns padded by bytes, as awk's printf pads them.
        def width(i):
            return max([len(r[i].encode()) for r in self.rows] + [0])

        w = [width(0), width(1), width(2)]

        def line(cells):
            out = ''
            for c, wi in zip(cells, w):
                out += c + ' ' * max(0, wi - len(c.encode())) + ' | '
            return out + cells[3]

        print()
        print(line(('figure', 'measured', 'target', 'result')))
        # The header's rule: every character but "|" a dash, and 6 more.
        print(re.sub('[^|]', '-', line(('', '', '', '')) + '\n') + '------')
        for r in self.rows:
            print(line(r))
        print()
        print(self.footer)
        fails = sum(1 for r in self.rows if r[3] == 'FAIL')
        misses = sum(1 for r in self.rows if r[3] == 'miss')
        print('%d broken, %d targets missed' % (fails, misses))
        return fails, misses


CALLGRIND_OURS = re.compile(r'pcm_loop\.c|shm_ring\.[ch]|libasound_module_pcm_loopback')


def callgrind(secs, no, yes):
    """The plugin's functions, the most inclusive first (25), and the total."""
    secs = num(secs)

    def listing(path):
        try:
            with open(path, errors='replace') as f:
                return f.read().splitlines()
        except OSError:
            return []

    # Lines are "COUNT (PCT)  FILE:FUNCTION [OBJECT]"; a function may
    # appear once per source file name: sum self, keep the largest
    # inclusive.
    def entries(lines):
        for line in lines:
            if not CALLGRIND_OURS.search(line) or not line.split():
                continue
            name = re.sub(r'^ *[0-9,]+ +\([^)]*\) +', '', line, count=1)
            name = re.sub(r' \[.*$', '', name, count=1)
            name = re.sub(r'^.*:', '', name, count=1)
            yield num(line.split()[0].replace(',', '')), name

    self_ir, incl = {}, {}
    for count, name in entries(listing(no)):
        self_ir[name] = self_ir.get(name, 0) + count
    for count, name in entries(listing(yes)):
        incl[name] = max(incl.get(name, 0), count)
    rows = ['%14.0f %14.0f  %s' % (self_ir.get(f, 0) / secs,
                                    max(incl[f], self_ir.get(f, 0)) / secs, f) for f in incl]
    rows.sort(key=lambda r: (float(r.split()[1]), r), reverse=True)
    print('%14s %14s  %s' % ('self Ir/s', 'incl Ir/s', 'function'))
    for r in rows[:25]:
        print(r)
    total = 0.0
    for line in listing(no):
        m = re.match(r' *([0-9,]*) .*PROGRAM TOTALS', line)
        if m:
            total = num(m.group(1).replace(',', ''))
    print('whole process, startup included: %s Ir/s' % g6(total / secs))
    return 0


def main(argv):
    args = argv[1:]
    if args[:1] == ['--callgrind']:
        if len(args) != 4:
            sys.exit('usage: report.py --callgrind SECS NO YES')
        return callgrind(*args[1:])
    strict = '--strict' in args
    args = [a for a in args if a != '--strict']
    if len(args) != 1:
        sys.exit('usage: report.py [--strict] RAW')
    report = Report(os.path.dirname(os.path.abspath(args[0])))
    report.read(args[0])
    fails, misses = report.table()
    return 1 if fails or (strict and misses) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
